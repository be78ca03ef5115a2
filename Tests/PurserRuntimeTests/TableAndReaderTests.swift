import PurserKafka
import PurserTesting
import ServiceLifecycle
import Testing

@testable import PurserRuntime

/// Reading whole partitions and following a compacted topic, on the embedded broker.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TableAndReaderTests {
    @Test("a partition is read from its beginning to the end it had when the read started")
    func partitionReaderReadsToTheHighWatermark() async throws {
        let topic = KafkaTesting.uniqueName("credited")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 3])
        let producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        for index in 0..<30 {
            _ = try await producer.send(ProducerRecord(topic: topic, partition: 1, key: "c\(index % 4)", value: "tx-\(index)"))
        }
        _ = try await producer.send(ProducerRecord(topic: topic, partition: 2, key: "c9", value: "elsewhere"))
        let reader = KafkaPartitionReader(
            admin: try KafkaAdmin.make(PurserConfiguration(brokers: .servers(kafka.brokers)), servers: kafka.brokers, logger: KafkaTesting.logger)
        )

        var values: [String] = []
        try await reader.readFromBeginning(topic: topic, partition: 1) { record in
            values.append(String(decoding: record.value ?? [], as: UTF8.self))
            #expect(record.partition == 1)
        }
        #expect(values == (0..<30).map { "tx-\($0)" })

        var emptyCount = 0
        try await reader.readFromBeginning(topic: topic, partition: 0) { _ in emptyCount += 1 }
        #expect(emptyCount == 0, "an empty partition ends the read at once")
        await producer.shutdown()
    }

    @Test("a global table holds the latest value per key, drops tombstones and catches up on demand")
    func globalTableFollowsACompactedTopic() async throws {
        let topic = KafkaTesting.uniqueName("customers")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 3])
        let producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        for index in 0..<20 {
            _ = try await producer.send(ProducerRecord(topic: topic, key: "customer-\(index % 10)", value: "v\(index)"))
        }
        _ = try await producer.send(ProducerRecord(topic: topic, key: Array("customer-3".utf8), value: nil))

        let table = GlobalTable<String>(
            topic: topic,
            configuration: PurserConfiguration(brokers: .servers(kafka.brokers)),
            logger: KafkaTesting.logger
        ) { record in
            (record.keyString ?? "", record.value.map { String(decoding: $0, as: UTF8.self) })
        }
        let group = ServiceGroup(services: [table], gracefulShutdownSignals: [], logger: KafkaTesting.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }

            #expect(try await table.value(forKey: "customer-7") == "v17", "a lookup waits for the initial load")
            #expect(table.isReady)
            #expect(try await table.value(forKey: "customer-3") == nil, "a tombstone removes the key")
            #expect(try await table.value(forKey: "nobody") == nil)
            #expect(table.count == 9)

            _ = try await producer.send(ProducerRecord(topic: topic, key: "customer-7", value: "blocked"))
            try await table.catchUp()
            #expect(try await table.value(forKey: "customer-7") == "blocked", "catchUp sees a change made just before")

            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await producer.shutdown()
    }
}
