/// Decides which consumed records run when: records of one key (within a partition) one at a time in
/// offset order, records of different keys concurrently, at most `maxInFlight` running; and which offsets
/// may be committed.
///
/// Pure state: the ``WorkerService`` feeds it events (received, finished, assigned, revoked) under a lock
/// and carries out what it returns (start these records, pause or resume intake) outside the lock.
struct KeyOrderedScheduler {
    /// Where records of one key wait their turn. Kafka keeps a key on one partition; the partition is part
    /// of the identity so that revoking a partition drops exactly its records.
    struct OrderingKey: Hashable {
        var partition: TopicPartition
        var key: [UInt8]?
    }

    /// What the caller must do after an event.
    struct Actions {
        /// Records to start processing now.
        var start: [InputRecord] = []
        /// Pause (`true`) or resume (`false`) every assigned partition; `nil` for no change.
        var pauseIntake: Bool?
    }

    private struct PartitionState {
        /// Which assignment of the partition this is: a record started under an earlier one is stale.
        var generation: Int
        var offsets = OffsetTracker()
        var isRevoking = false
        var running = 0
        var lastCommitted: Int64?
    }

    let maxInFlight: Int
    private var partitions: [TopicPartition: PartitionState] = [:]
    /// Per key, records in offset order; the first is running or in `ready`.
    private var queues: [OrderingKey: FIFO<InputRecord>] = [:]
    /// Keys whose first record may start as soon as a running slot frees.
    private var ready = FIFO<OrderingKey>()
    /// Per key with a running record, the generation of the partition's assignment it started under.
    private var startedGenerations: [OrderingKey: Int] = [:]
    private var lastGeneration = 0
    private(set) var running = 0
    /// Records held: running, ready, or waiting behind an earlier record of their key.
    private(set) var held = 0
    private(set) var isIntakePaused = false

    init(maxInFlight: Int) {
        precondition(maxInFlight > 0)
        self.maxInFlight = maxInFlight
    }

    var assignedPartitions: [TopicPartition] { Array(partitions.keys) }

    mutating func assign(_ assigned: [TopicPartition]) {
        for partition in assigned where partitions[partition] == nil {
            lastGeneration += 1
            partitions[partition] = PartitionState(generation: lastGeneration)
        }
    }

    /// Takes a consumed record. Records of partitions not assigned (or being revoked) and offsets already
    /// received are ignored.
    mutating func receive(_ record: InputRecord) -> Actions {
        let partition = record.topicPartition
        guard var state = partitions[partition], !state.isRevoking, state.offsets.receive(record.offset) else {
            return Actions()
        }
        partitions[partition] = state
        held += 1
        let key = OrderingKey(partition: partition, key: record.key)
        var queue = queues[key] ?? FIFO()
        queue.append(record)
        queues[key] = queue
        if queue.count == 1 { ready.append(key) }
        return startReady()
    }

    /// Notes that a started record is done (processed, or dead-lettered) so its offset may be committed.
    mutating func finish(_ record: InputRecord) -> Actions {
        settle(record, countsAsFinished: true)
    }

    /// Notes that a started record was given up without finishing (cancelled by a revoke or a shutdown):
    /// its offset is never committed here, so the next owner of the partition processes it again.
    mutating func abandon(_ record: InputRecord) -> Actions {
        settle(record, countsAsFinished: false)
    }

    /// Whether a running record started under its partition's current assignment. A record still running when
    /// the revoke of its partition stopped waiting for it is not: it must not publish (its offset was not
    /// committed, so the partition's owner processes it again), and when it ends it touches nothing of a later
    /// assignment of the partition.
    func isCurrent(_ record: InputRecord) -> Bool {
        let key = OrderingKey(partition: record.topicPartition, key: record.key)
        guard let started = startedGenerations[key] else { return false }
        return partitions[record.topicPartition]?.generation == started
    }

    private mutating func settle(_ record: InputRecord, countsAsFinished: Bool) -> Actions {
        let partition = record.topicPartition
        let key = OrderingKey(partition: partition, key: record.key)
        let isCurrent = isCurrent(record)
        startedGenerations[key] = nil
        running -= 1
        held -= 1
        if isCurrent, var state = partitions[partition] {
            state.running -= 1
            if countsAsFinished { state.offsets.finish(record.offset) }
            partitions[partition] = state
        }
        if var queue = queues[key] {
            _ = queue.popFirst()
            // A stale record's successors came with the later assignment (its own were dropped at the revoke):
            // they go on.
            if queue.isEmpty || (isCurrent && !countsAsFinished) {
                // An abandoned record's successors must not overtake it: drop them too.
                held -= queue.count
                queues[key] = nil
            } else {
                queues[key] = queue
                ready.append(key)
            }
        }
        return startReady()
    }

    /// Starts revoking `revoked`: their records that have not started are dropped (never committed, so
    /// they are processed again by the next owner). Returns how many of their records are still running;
    /// call ``completeRevoke(_:)`` once that reaches zero.
    mutating func beginRevoke(_ revoked: [TopicPartition]) -> Actions {
        let revokedSet = Set(revoked)
        for partition in revoked {
            partitions[partition]?.isRevoking = true
        }
        for (key, queue) in queues where revokedSet.contains(key.partition) {
            let isRunning = !ready.elements.contains(key)
            var kept = FIFO<InputRecord>()
            if isRunning, let first = queue.first { kept.append(first) }
            held -= queue.count - kept.count
            queues[key] = kept.isEmpty ? nil : kept
        }
        ready.removeAll { revokedSet.contains($0.partition) }
        return flowControl()
    }

    /// Records still running in `partitions`.
    func runningCount(in partitions: [TopicPartition]) -> Int {
        partitions.reduce(0) { $0 + (self.partitions[$1]?.running ?? 0) }
    }

    /// Forgets `revoked` and returns their final committable offsets (those not committed yet). Only partitions
    /// being revoked are forgotten, so a late second call cannot drop a partition assigned again meanwhile.
    mutating func completeRevoke(_ revoked: [TopicPartition]) -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for partition in revoked where partitions[partition]?.isRevoking == true {
            guard let state = partitions.removeValue(forKey: partition) else { continue }
            if let offset = state.offsets.committableOffset, offset != state.lastCommitted {
                offsets[partition] = offset
            }
        }
        return offsets
    }

    /// Offsets that may be committed and have advanced since the last ``markCommitted(_:)``.
    func committableOffsets() -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for (partition, state) in partitions {
            if let offset = state.offsets.committableOffset, offset != state.lastCommitted {
                offsets[partition] = offset
            }
        }
        return offsets
    }

    /// Per assigned partition that has received a record, the first offset not finished.
    func positions() -> [TopicPartition: Int64] {
        partitions.compactMapValues { $0.offsets.committableOffset }
    }

    mutating func markCommitted(_ offsets: [TopicPartition: Int64]) {
        for (partition, offset) in offsets {
            partitions[partition]?.lastCommitted = offset
        }
    }

    private mutating func startReady() -> Actions {
        var actions = flowControl()
        while running < maxInFlight, let key = ready.popFirst() {
            guard let record = queues[key]?.first else { continue }
            running += 1
            partitions[key.partition]?.running += 1
            startedGenerations[key] = partitions[key.partition]?.generation
            actions.start.append(record)
        }
        return actions
    }

    /// Pauses intake when twice `maxInFlight` records are held and resumes it when `maxInFlight` are left: the
    /// records waiting beyond the running ones keep every slot busy while intake refills (pausing at
    /// `maxInFlight` and resuming at half of it left slots idle after each resume), and the gap between the
    /// two keeps a full worker from flapping on every record.
    private mutating func flowControl() -> Actions {
        var actions = Actions()
        if !isIntakePaused && held >= 2 * maxInFlight {
            isIntakePaused = true
            actions.pauseIntake = true
        } else if isIntakePaused && held <= maxInFlight {
            isIntakePaused = false
            actions.pauseIntake = false
        }
        return actions
    }
}
