import Logging
import PurserKafka

/// Reads a partition from its beginning through the Kafka module's admin client (no consumer group).
struct KafkaPartitionReader: PartitionReader {
    let admin: KafkaAdmin

    /// How long one read may take: rebuilding state from a long partition is slow but must finish.
    static let timeout = Duration.seconds(300)

    func readFromBeginning(
        topic: String,
        partition: Int32,
        _ body: (InputRecord) async throws -> Void
    ) async throws {
        for record in try await admin.readPartition(TopicPartition(topic, partition), timeout: Self.timeout) {
            try await body(InputRecord(record))
        }
    }
}

extension KafkaAdmin {
    /// An admin client for `configuration`'s brokers.
    static func make(_ configuration: PurserConfiguration, servers: [String], logger: Logger) throws -> KafkaAdmin {
        var options = KafkaClientOptions(bootstrapServers: servers)
        options.additionalProperties = configuration.kafkaProperties
        return try KafkaAdmin(options: options, logger: logger)
    }
}

extension KafkaConsumer {
    /// The next record, or `nil` when none arrives within `timeout`. A record that arrives as the wait
    /// times out is still returned, never dropped.
    func nextRecord(within timeout: Duration) async throws -> ConsumerRecord? {
        try await withThrowingTaskGroup(of: ConsumerRecord?.self) { group in
            group.addTask {
                var iterator = self.records.makeAsyncIterator()
                return try await iterator.next()
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            var record: ConsumerRecord?
            while let result = await group.nextResult() {
                group.cancelAll()
                if let received = try result.get() { record = received }
            }
            return record
        }
    }
}
