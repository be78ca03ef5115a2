import Logging
import PurserKafka

/// Reads a partition from its beginning with a consumer outside any group.
struct KafkaPartitionReader: PartitionReader {
    let bootstrapServers: [String]
    let properties: [String: String]
    let logger: Logger

    /// How long to wait for the next record before checking whether the end was passed (the last offsets
    /// of a partition may be transaction markers, which are never delivered).
    static let idleCheck = Duration.milliseconds(200)

    func readFromBeginning(
        topic: String,
        partition: Int32,
        _ body: (InputRecord) async throws -> Void
    ) async throws {
        let consumer = try makeConsumer()
        do {
            try await read(TopicPartition(topic, partition), with: consumer, body)
            await consumer.shutdown()
        } catch {
            await consumer.shutdown()
            throw error
        }
    }

    func makeConsumer() throws -> KafkaConsumer {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: nil)
        configuration.client.additionalProperties = properties
        return try KafkaConsumer(configuration: configuration, logger: logger)
    }

    private func read(
        _ partition: TopicPartition,
        with consumer: KafkaConsumer,
        _ body: (InputRecord) async throws -> Void
    ) async throws {
        let (low, high) = try await consumer.watermarks(partition)
        guard high > low else { return }
        try consumer.assign([TopicPartitionOffset(partition, offset: TopicPartitionOffset.beginning)])
        while true {
            if let record = try await consumer.nextRecord(within: Self.idleCheck) {
                try await body(InputRecord(record))
                if record.offset >= high - 1 { return }
            } else if let position = try consumer.position([partition]).first?.offset, position >= high {
                return
            }
        }
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

extension KafkaConsumer {
    /// The partitions of `topic`, found by asking for each partition's watermarks until one does not
    /// exist.
    func partitions(of topic: String) async throws -> [TopicPartition] {
        var partitions: [TopicPartition] = []
        while true {
            let partition = TopicPartition(topic, Int32(partitions.count))
            do {
                _ = try await watermarks(partition, timeout: .seconds(10))
            } catch let error as KafkaError where !partitions.isEmpty && !error.isRetriable {
                return partitions
            }
            partitions.append(partition)
        }
    }
}
