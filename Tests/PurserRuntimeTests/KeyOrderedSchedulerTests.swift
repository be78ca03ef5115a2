import Testing

@testable import PurserRuntime

@Suite struct KeyOrderedSchedulerTests {
    let partition = TopicPartition(topic: "in", partition: 0)

    func record(_ offset: Int64, key: String, partition: Int32 = 0) -> InputRecord {
        InputRecord(topic: "in", partition: partition, offset: offset, key: Array(key.utf8), value: nil)
    }

    func offsets(_ records: [InputRecord]) -> [Int64] { records.map(\.offset) }

    @Test func differentKeysRunConcurrentlyAndOneKeyRunsInOffsetOrder() {
        var scheduler = KeyOrderedScheduler(maxInFlight: 10)
        scheduler.assign([partition])
        #expect(offsets(scheduler.receive(record(0, key: "a")).start) == [0])
        #expect(offsets(scheduler.receive(record(1, key: "b")).start) == [1])
        #expect(scheduler.receive(record(2, key: "a")).start.isEmpty, "a's second record waits for its first")
        #expect(scheduler.receive(record(3, key: "a")).start.isEmpty)
        #expect(scheduler.running == 2)

        #expect(offsets(scheduler.finish(record(1, key: "b")).start).isEmpty)
        #expect(offsets(scheduler.finish(record(0, key: "a")).start) == [2])
        #expect(offsets(scheduler.finish(record(2, key: "a")).start) == [3])
    }

    @Test func committedOffsetNeverPassesAnUnfinishedRecord() {
        var scheduler = KeyOrderedScheduler(maxInFlight: 10)
        scheduler.assign([partition])
        for offset in Int64(0)..<4 {
            _ = scheduler.receive(record(offset, key: "k\(offset)"))
        }
        #expect(scheduler.committableOffsets() == [partition: 0], "nothing finished: commit nothing past 0")
        _ = scheduler.finish(record(1, key: "k1"))
        _ = scheduler.finish(record(3, key: "k3"))
        #expect(scheduler.committableOffsets() == [partition: 0], "slow record 0 holds the commit back")
        _ = scheduler.finish(record(0, key: "k0"))
        #expect(scheduler.committableOffsets() == [partition: 2])
        scheduler.markCommitted([partition: 2])
        #expect(scheduler.committableOffsets().isEmpty, "no change since the last commit")
        _ = scheduler.finish(record(2, key: "k2"))
        #expect(scheduler.committableOffsets() == [partition: 4])
    }

    @Test func runningRecordsNeverExceedTheBoundAndIntakePausesWhenFull() {
        var scheduler = KeyOrderedScheduler(maxInFlight: 4)
        scheduler.assign([partition])
        var started: [InputRecord] = []
        var pausedAt: [Int64] = []
        for offset in Int64(0)..<9 {
            let actions = scheduler.receive(record(offset, key: "k\(offset)"))
            started += actions.start
            if actions.pauseIntake == true { pausedAt.append(offset) }
            #expect(actions.pauseIntake != false)
            #expect(scheduler.running <= 4)
        }
        #expect(offsets(started) == [0, 1, 2, 3])
        #expect(pausedAt == [7], "paused once, when the eighth record made twice the bound held")
        #expect(scheduler.isIntakePaused)

        let afterFirst = scheduler.finish(started[0])
        #expect(offsets(afterFirst.start) == [4], "a freed slot starts the next ready record")
        #expect(afterFirst.pauseIntake == nil)
        for index in 1..<4 {
            started += scheduler.finish(started[index]).start
            #expect(scheduler.running == 4, "records waiting beyond the bound keep every slot busy")
        }
        #expect(scheduler.held == 5 && scheduler.isIntakePaused, "5 held: still paused")
        #expect(scheduler.finish(started[4]).pauseIntake == false, "resumes once no more than the bound is held")
        #expect(scheduler.held == 4)
    }

    @Test func recordsOfOtherPartitionsAreOrderedIndependently() {
        var scheduler = KeyOrderedScheduler(maxInFlight: 10)
        let other = TopicPartition(topic: "in", partition: 1)
        scheduler.assign([partition, other])
        #expect(offsets(scheduler.receive(record(0, key: "a")).start) == [0])
        #expect(offsets(scheduler.receive(record(0, key: "a", partition: 1)).start) == [0])
        #expect(scheduler.running == 2)
    }

    @Test func unassignedPartitionsAndRepeatedOffsetsAreIgnored() {
        var scheduler = KeyOrderedScheduler(maxInFlight: 10)
        scheduler.assign([partition])
        #expect(scheduler.receive(record(0, key: "a", partition: 7)).start.isEmpty)
        #expect(offsets(scheduler.receive(record(5, key: "a")).start) == [5])
        #expect(scheduler.receive(record(5, key: "b")).start.isEmpty, "offset 5 was already received")
        #expect(scheduler.held == 1)
    }

    @Test func revokeDropsWaitingRecordsAndCommitsOnlyFinishedOnes() {
        var scheduler = KeyOrderedScheduler(maxInFlight: 10)
        scheduler.assign([partition])
        _ = scheduler.receive(record(0, key: "a"))
        _ = scheduler.receive(record(1, key: "b"))
        _ = scheduler.receive(record(2, key: "a"))  // waits behind 0
        _ = scheduler.finish(record(0, key: "a"))  // starts 2

        _ = scheduler.beginRevoke([partition])
        #expect(scheduler.runningCount(in: [partition]) == 2)
        #expect(scheduler.receive(record(3, key: "c")).start.isEmpty, "no intake for a partition being revoked")
        _ = scheduler.finish(record(2, key: "a"))
        #expect(scheduler.runningCount(in: [partition]) == 1)
        _ = scheduler.abandon(record(1, key: "b"))
        #expect(scheduler.runningCount(in: [partition]) == 0)
        #expect(scheduler.completeRevoke([partition]) == [partition: 1], "abandoned offset 1 is not passed")
        #expect(scheduler.held == 0)
        #expect(scheduler.assignedPartitions.isEmpty)
    }

    @Test func revokeDropsRecordsWaitingForASlot() {
        var scheduler = KeyOrderedScheduler(maxInFlight: 1)
        scheduler.assign([partition])
        _ = scheduler.receive(record(0, key: "a"))
        _ = scheduler.receive(record(1, key: "b"))  // ready, no slot
        _ = scheduler.beginRevoke([partition])
        #expect(scheduler.held == 1)
        #expect(scheduler.finish(record(0, key: "a")).start.isEmpty, "b was dropped, not started")
        #expect(scheduler.completeRevoke([partition]) == [partition: 1])
    }

    /// A record still running when the revoke of its partition stopped waiting, which ends only after the partition
    /// came back: it is stale (must not publish), and its end neither marks the re-fetched copy of its offset done
    /// nor drops the records that arrived with the new assignment.
    @Test func aRecordOutlivingItsPartitionsRevokeTouchesNothingOfTheNextAssignment() {
        var scheduler = KeyOrderedScheduler(maxInFlight: 10)
        scheduler.assign([partition])
        _ = scheduler.receive(record(5, key: "a"))
        #expect(scheduler.isCurrent(record(5, key: "a")))
        _ = scheduler.beginRevoke([partition])
        #expect(scheduler.completeRevoke([partition]) == [partition: 5], "up to the running record, not past it")

        scheduler.assign([partition])
        #expect(!scheduler.isCurrent(record(5, key: "a")), "started under the earlier assignment")
        #expect(scheduler.receive(record(5, key: "a")).start.isEmpty, "the copy waits behind the stale run of its key")
        #expect(offsets(scheduler.receive(record(6, key: "b")).start) == [6])
        _ = scheduler.finish(record(6, key: "b"))
        #expect(scheduler.runningCount(in: [partition]) == 0, "the stale record is not counted in the new assignment")

        #expect(offsets(scheduler.abandon(record(5, key: "a")).start) == [5], "the copy starts when the stale run ends")
        #expect(scheduler.committableOffsets()[partition] == 5, "offset 5 is not done: only the stale run ended")
        #expect(scheduler.isCurrent(record(5, key: "a")))
        _ = scheduler.finish(record(5, key: "a"))
        #expect(scheduler.committableOffsets()[partition] == 7)
        #expect(scheduler.held == 0)
        #expect(scheduler.running == 0)
    }

    @Test(arguments: [1, 3, 16])
    func randomCompletionOrderKeepsEveryInvariant(maxInFlight: Int) {
        var scheduler = KeyOrderedScheduler(maxInFlight: maxInFlight)
        scheduler.assign([partition])
        var generator = SplitMix64(seed: UInt64(maxInFlight))
        let records = (Int64(0)..<300).map { record($0, key: "k\(Int.random(in: 0..<7, using: &generator))") }
        var running: [InputRecord] = []
        var finishedOffsets: Set<Int64> = []
        var lastOffsetPerKey: [String: Int64] = [:]
        var next = 0
        while finishedOffsets.count < records.count {
            if next < records.count && (running.isEmpty || Bool.random(using: &generator)) {
                running += scheduler.receive(records[next]).start
                next += 1
            } else if !running.isEmpty {
                let done = running.remove(at: Int.random(in: 0..<running.count, using: &generator))
                finishedOffsets.insert(done.offset)
                running += scheduler.finish(done).start
            }
            #expect(running.count <= maxInFlight)
            #expect(Set(running.compactMap(\.keyString)).count == running.count, "one running record per key")
            for started in running {
                let key = started.keyString!
                if let last = lastOffsetPerKey[key], last != started.offset { #expect(last < started.offset) }
                lastOffsetPerKey[key] = started.offset
            }
            if let committable = scheduler.committableOffsets()[partition] {
                #expect((0..<committable).allSatisfy(finishedOffsets.contains), "commit passes only finished")
            }
        }
        #expect(scheduler.committableOffsets()[partition] == 300)
        #expect(scheduler.held == 0)
    }
}

/// A seeded generator so a failing random run can be repeated.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
