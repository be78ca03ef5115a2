import Foundation
import PurserJSON
import PurserKafka
import PurserSchema
import PurserTesting
import Testing

@testable import PurserCLI

@Suite(.serialized) struct LagAndTailTests {
    let kafka: EmbeddedKafka
    let topic = KafkaTesting.uniqueName("deposits.credited")

    init() throws {
        kafka = try KafkaTesting.startBroker(topics: [topic: 2])
    }

    private func credited(_ customer: String, amount: String, partition: Int32? = nil) -> ProducerRecord {
        var record = TestRecords.event(
            topic: topic,
            type: .depositCredited,
            customer: customer,
            data: [
                "customerId": .string(customer), "amount": .string(amount), "currency": "USDT_TRC20",
                "transactionId": .string(UUID().uuidString),
            ]
        )
        record.partition = partition
        return record
    }

    @Test(.timeLimit(.minutes(1)))
    func lagShowsCommittedHighAndTheDifferencePerPartition() async throws {
        _ = try await TestRecords.send(
            (0..<5).map { credited("c\($0)", amount: "1", partition: 0) }
                + (0..<3).map { credited("d\($0)", amount: "1", partition: 1) },
            to: kafka
        )
        let group = KafkaTesting.uniqueName("purser-lag")
        let admin = try KafkaAdmin(
            options: KafkaClientOptions(bootstrapServers: kafka.brokers),
            logger: KafkaTesting.logger
        )
        try await admin.alterCommittedOffsets(
            group: group,
            [TopicPartitionOffset(topic, 0, offset: 2), TopicPartitionOffset(topic, 1, offset: 3)]
        )

        let run = try await OperatorRun.purser(["lag", "--brokers", kafka.bootstrapServers, "--group", group, "--json"])
        let rows = try JSONDecoder().decode([LagCommand.Row].self, from: Data(run.text.utf8))
        #expect(
            rows == [
                LagCommand.Row(group: group, topic: topic, partition: 0, committed: 2, highWatermark: 5, lag: 3),
                LagCommand.Row(group: group, topic: topic, partition: 1, committed: 3, highWatermark: 3, lag: 0),
            ]
        )

        // A group that never committed on partition 1 (say, stuck on its first record) still shows it.
        let stuck = KafkaTesting.uniqueName("purser-lag")
        try await admin.alterCommittedOffsets(group: stuck, [TopicPartitionOffset(topic, 0, offset: 5)])
        let stuckRun = try await OperatorRun.purser(["lag", "--brokers", kafka.bootstrapServers, "--group", stuck, "--json"])
        #expect(
            try JSONDecoder().decode([LagCommand.Row].self, from: Data(stuckRun.text.utf8)) == [
                LagCommand.Row(group: stuck, topic: topic, partition: 0, committed: 5, highWatermark: 5, lag: 0),
                LagCommand.Row(group: stuck, topic: topic, partition: 1, committed: nil, highWatermark: 3, lag: 3),
            ]
        )

        let table = try await OperatorRun.purser(["lag", "--brokers", kafka.bootstrapServers]).output
        #expect(table.first?.split(separator: " ") == ["GROUP", "TOPIC", "PARTITION", "COMMITTED", "HIGH", "LAG"])
        for worker in TopicNames.Worker.all {
            #expect(table.contains { $0.hasPrefix("purser-\(worker) ") && $0.contains("(no committed offsets)") })
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func anUnreachableBrokerFailsWithOneLine() async throws {
        await #expect {
            try await OperatorRun.purser(["lag", "--brokers", "127.0.0.1:1", "--timeout", "1"])
        } throws: { error in
            "\(error)".hasPrefix("cannot reach Kafka at 127.0.0.1:1") && !"\(error)".contains("\n")
        }
    }

    @Test func brokersAreRequired() async throws {
        await #expect {
            try await OperatorRun.purser(["lag"])
        } throws: { error in
            "\(error)".contains("KAFKA_BROKERS")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func tailPrintsReadableLinesAndFiltersByCustomer() async throws {
        _ = try await TestRecords.send(
            [
                credited("ada", amount: "0.123456789012345678"), credited("bob", amount: "2"),
                credited("ada", amount: "3.5"),
            ],
            to: kafka
        )
        let all = try await OperatorRun.purser(["tail", topic, "--brokers", kafka.bootstrapServers]).output
        #expect(all.count == 3)
        #expect(all.allSatisfy { $0.contains("deposit.credited") && $0.contains("currency=USDT_TRC20") })
        #expect(all.contains { $0.contains("customer=ada") && $0.contains("amount=0.123456789012345678") })

        let ada = try await OperatorRun.purser([
            "tail", topic, "--brokers", kafka.bootstrapServers, "--customer", "ada", "--json",
        ])
        .output.map { try CloudEventEnvelope(recordValue: Array($0.utf8)) }
        #expect(ada.map(\.subject) == ["ada", "ada"])
        #expect(ada.compactMap { $0.data?["amount"]?.stringValue }.sorted() == ["0.123456789012345678", "3.5"])

        let last = try await OperatorRun.purser(["tail", topic, "--brokers", kafka.bootstrapServers, "--limit", "1"])
            .output
        #expect(last.count == 1)

        let future = try await OperatorRun.purser([
            "tail", topic, "--brokers", kafka.bootstrapServers, "--from", "2999-01-01T00:00:00Z",
        ])
        #expect(future.output.isEmpty)
        let recent = try await OperatorRun.purser(["tail", topic, "--brokers", kafka.bootstrapServers, "--from", "10m"])
        #expect(recent.output.count == 3)
    }

    @Test func tailRejectsATimeItCannotRead() async throws {
        await #expect {
            try await OperatorRun.purser(["tail", topic, "--brokers", kafka.bootstrapServers, "--from", "yesterday"])
        } throws: { error in
            PurserCommand.message(for: error).contains("yesterday")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func tailFollowPrintsEventsAsTheyArrive() async throws {
        _ = try await TestRecords.send([credited("old", amount: "1")], to: kafka)
        let run = OperatorRun()
        let kafka = kafka
        let topic = topic
        async let followed = OperatorRun.purser(
            ["tail", topic, "--brokers", kafka.bootstrapServers, "--follow", "--limit", "2"],
            into: run
        )
        try await KafkaTesting.eventually(timeout: .seconds(20)) { run.progress.contains { $0.hasPrefix("following") } }
        _ = try await TestRecords.send([credited("new1", amount: "1"), credited("new2", amount: "2")], to: kafka)
        _ = try await followed
        #expect(run.output.count == 2)
        #expect(
            Set(run.output.compactMap { line in ["new1", "new2"].first { line.contains("customer=\($0)") } }) == [
                "new1", "new2",
            ]
        )
    }
}
