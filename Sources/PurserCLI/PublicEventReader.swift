import Logging
import PurserKafka
import PurserSchema

/// Reads the four public topics from where they ended when it was made, prints each event about a
/// known customer as one line, and keeps count of what arrived.
struct PublicEventReader {
    struct Settings: Sendable {
        var brokers: [String]
        var kafkaProperties: [String: String]
        /// The public topics' full names (with `TOPIC_PREFIX`) and partition counts.
        var topics: [(name: String, partitions: Int)]
        var output: @Sendable (String) -> Void
    }

    let settings: Settings
    private let consumer: KafkaConsumer
    /// Display names of the customers whose events are shown; events of others are skipped.
    var names: [String: String] = [:]
    private var seen: [RunDemo.Expectation: Int] = [:]

    /// Starts reading at each partition's current end, so only new events are shown.
    init(settings: Settings, logger: Logger) async throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: settings.brokers, groupID: nil)
        configuration.client.clientID = "purser-run-demo"
        configuration.client.additionalProperties = settings.kafkaProperties
        configuration.isAutoCommitEnabled = false
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        var starts: [TopicPartitionOffset] = []
        do {
            for topic in settings.topics {
                for partition in 0..<Int32(topic.partitions) {
                    let end = try await consumer.watermarks(TopicPartition(topic.name, partition)).high
                    starts.append(TopicPartitionOffset(topic.name, partition, offset: end))
                }
            }
            try consumer.assign(starts)
        } catch {
            await consumer.shutdown()
            throw error
        }
        self.settings = settings
        self.consumer = consumer
    }

    func close() async {
        await consumer.shutdown()
    }

    /// How many events of the known customers arrived on `topic` (without prefix).
    func count(on topic: String) -> Int {
        seen.filter { $0.key.topic == topic }.values.reduce(0, +)
    }

    /// The transactions and purses that got more than one event on a topic.
    func subjectsSeenMoreThanOnce() -> [String] {
        seen.filter { $0.value > 1 }.map { "\($0.key.subjectKey) on \($0.key.topic)" }
    }

    /// Reads and prints events until each expectation was met.
    /// - Throws: ``RunDemo/Failure`` naming what is missing when `deadline` passes first.
    mutating func wait(for expectations: Set<RunDemo.Expectation>, until deadline: ContinuousClock.Instant) async throws
    {
        while true {
            let missing = expectations.filter { seen[$0] == nil }
            if missing.isEmpty { return }
            guard let record = try await nextRecord(until: deadline) else {
                let list = missing.map { "\($0.topic) for \($0.subjectKey)" }.sorted().joined(separator: ", ")
                throw RunDemo.Failure(description: "timed out waiting for \(missing.count) event(s): \(list)")
            }
            guard let event = PublicEvent(record: record), names[event.customerId] != nil else { continue }
            seen[RunDemo.Expectation(topic: event.topic, subjectKey: event.subjectKey), default: 0] += 1
            settings.output(event.line(names: names))
        }
    }

    /// The next record, or `nil` once `deadline` passed.
    private func nextRecord(until deadline: ContinuousClock.Instant) async throws -> ConsumerRecord? {
        let consumer = consumer
        return try await withThrowingTaskGroup(of: ConsumerRecord?.self) { group in
            group.addTask {
                var records = consumer.records.makeAsyncIterator()
                return try await records.next()
            }
            group.addTask {
                try await Task.sleep(until: deadline)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}
