import Foundation
import PurserKafka
import PurserSchema
import PurserTesting
import Testing

@testable import PurserCLI

@Suite(.serialized) struct ReplayCommandTests {
    let kafka: EmbeddedKafka
    let topic = KafkaTesting.uniqueName("purser.transactions")
    let copies = KafkaTesting.uniqueName("replay.copies")
    let group = KafkaTesting.uniqueName("purser-customer-policy")
    let admin: KafkaAdmin

    init() throws {
        kafka = try KafkaTesting.startBroker(topics: [topic: 2, copies: 1])
        admin = try KafkaAdmin(
            options: KafkaClientOptions(bootstrapServers: kafka.brokers),
            logger: KafkaTesting.logger
        )
    }

    private func send(_ count: Int, startingAt first: Int = 0) async throws {
        _ = try await TestRecords.send(
            (first..<first + count).map { index in
                var record = TestRecords.event(
                    topic: topic,
                    type: .transactionUpdated,
                    customer: "c\(index)",
                    data: ["transactionId": .string("t\(index)")]
                )
                record.partition = Int32(index % 2)
                return record
            },
            to: kafka
        )
    }

    private func committed() async throws -> [Int64] {
        try await admin.committedOffsets(group: group, topics: [topic]).map(\.offset)
    }

    private func replay(_ arguments: [String]) async throws -> ReplayCommand.Result {
        let run = try await OperatorRun.purser(
            ["replay", "--brokers", kafka.bootstrapServers, "--topic", topic, "--json", "--timeout", "30"] + arguments
        )
        return try JSONDecoder().decode(ReplayCommand.Result.self, from: Data(run.text.utf8))
    }

    @Test(.timeLimit(.minutes(1)))
    func dryRunReportsOldAndNewOffsetsAndChangesNothing() async throws {
        try await send(6)
        try await admin.alterCommittedOffsets(
            group: group,
            [TopicPartitionOffset(topic, 0, offset: 3), TopicPartitionOffset(topic, 1, offset: 2)]
        )

        let plan = try await replay(["--group", group, "--earliest", "--dry-run"])
        #expect(plan.partitions.map(\.committed) == [3, 2])
        #expect(plan.partitions.map(\.start) == [0, 0])
        #expect(plan.partitions.map(\.records) == [3, 2])
        #expect(plan.records == 5)
        #expect(try await committed() == [3, 2])

        let text = try await OperatorRun.purser(
            [
                "replay", "--brokers", kafka.bootstrapServers, "--topic", topic, "--group", group, "--offset", "1",
                "--dry-run",
            ]
        ).output
        #expect(text.last == "dry run: group \(group) would re-process 3 record(s); nothing changed")
    }

    @Test(.timeLimit(.minutes(3)))
    func rewindsAStoppedGroupByOffsetEarliestOrTime() async throws {
        try await send(4)
        try await Task.sleep(for: .milliseconds(50))
        let between = Timestamp.now
        try await Task.sleep(for: .milliseconds(50))
        try await send(6, startingAt: 4)
        try await admin.alterCommittedOffsets(
            group: group,
            [TopicPartitionOffset(topic, 0, offset: 5), TopicPartitionOffset(topic, 1, offset: 5)]
        )

        _ = try await replay(["--group", group, "--offset", "4"])
        #expect(try await committed() == [4, 4])

        let byTime = try await replay(["--group", group, "--from", between.description])
        #expect(byTime.partitions.map(\.start) == [2, 2])
        #expect(byTime.records == 4)
        #expect(try await committed() == [2, 2])

        _ = try await replay(["--group", group, "--earliest"])
        #expect(try await committed() == [0, 0])
    }

    @Test(.timeLimit(.minutes(3)))
    func refusesWhileTheGroupHasMembers() async throws {
        try await send(2)
        try await admin.alterCommittedOffsets(
            group: group,
            [TopicPartitionOffset(topic, 0, offset: 1), TopicPartitionOffset(topic, 1, offset: 1)]
        )
        let consumer = try KafkaConsumer(
            configuration: KafkaTesting.consumerConfiguration(kafka, groupID: group),
            logger: KafkaTesting.logger
        )
        try consumer.subscribe(topics: [topic])
        try await KafkaTesting.eventually(timeout: .seconds(30)) { try consumer.assignment().count == 2 }

        await #expect {
            try await replay(["--group", group, "--earliest"])
        } throws: { error in
            "\(error)" == "group \(group) has active members; stop its consumers, then replay"
        }
        await consumer.shutdown()
        #expect(try await committed() == [1, 1])
    }

    @Test("a rewind that would move the group past records it has not processed, or a group with no commits, is refused")
    func refusesToSkipUnprocessedRecords() async throws {
        try await send(6)
        try await admin.alterCommittedOffsets(
            group: group,
            [TopicPartitionOffset(topic, 0, offset: 1), TopicPartitionOffset(topic, 1, offset: 3)]
        )
        for arguments in [["--offset", "2"], ["--offset", "2", "--dry-run"]] {
            await #expect {
                try await replay(["--group", group] + arguments)
            } throws: { error in
                "\(error)".hasPrefix("replay only rewinds; moving group \(group) forward would skip records it has not processed")
                    && "\(error)".contains("\(topic)[0]: its next record is 1, the replay would start at 2")
                    && !"\(error)".contains("\(topic)[1]")
            }
        }
        #expect(try await committed() == [1, 3], "nothing moved")
        let mistyped = group + "-typo"
        await #expect {
            try await replay(["--group", mistyped, "--earliest"])
        } throws: { error in
            "\(error)" == "group \(mistyped) has no committed offset on \(topic): nothing to rewind (is the group name right?)"
        }
    }

    @Test func startIsRequiredOnce() async throws {
        for arguments in [
            ["--group", "g"], ["--group", "g", "--earliest", "--offset", "3"], ["--earliest"],
            ["--group", "g", "--earliest", "--to", "5m"],
        ] {
            await #expect(throws: (any Error).self) {
                try await OperatorRun.purser(
                    ["replay", "--brokers", kafka.bootstrapServers, "--topic", topic] + arguments
                )
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func intoCopiesTheWindowWithAReplayHeaderAndLeavesGroupsAlone() async throws {
        try await send(4)
        try await Task.sleep(for: .milliseconds(50))
        let end = Timestamp.now
        try await Task.sleep(for: .milliseconds(50))
        try await send(2, startingAt: 4)
        try await admin.alterCommittedOffsets(
            group: group,
            [TopicPartitionOffset(topic, 0, offset: 3), TopicPartitionOffset(topic, 1, offset: 3)]
        )

        let dry = try await replay(["--offset", "1", "--to", end.description, "--into", copies, "--dry-run"])
        #expect(dry.partitions.map(\.end) == [2, 2])
        #expect(dry.records == 2)
        #expect(try await admin.readPartition(TopicPartition(copies, 0)).isEmpty)

        let copied = try await replay(["--offset", "1", "--to", end.description, "--into", copies])
        #expect(copied.records == 2)
        let records = try await admin.readPartition(TopicPartition(copies, 0))
        #expect(Set(records.compactMap { $0.header(ReplayCommand.replayHeader) }) == ["\(topic)/0/1", "\(topic)/1/1"])
        let originals =
            try await admin.readPartition(TopicPartition(topic, 0)) + admin.readPartition(TopicPartition(topic, 1))
        for copy in records {
            let origin = originals.first {
                "\(topic)/\($0.partition)/\($0.offset)" == copy.header(ReplayCommand.replayHeader)
            }
            #expect(copy.value == origin?.value)
            #expect(copy.key == origin?.key)
        }
        #expect(try await committed() == [3, 3])
    }
}
