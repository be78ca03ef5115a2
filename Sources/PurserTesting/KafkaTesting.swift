import Foundation
import Logging
import PurserKafka

/// Helpers for tests and benchmarks that talk to the embedded broker.
public enum KafkaTesting {
    /// A logger for tests: warnings and worse, or the level in `LOG_LEVEL` (e.g. `debug`).
    public static var logger: Logger {
        var logger = Logger(label: "purser.test")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }

    /// `prefix` plus a random suffix: a topic or group name no other test uses.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Starts an embedded cluster with these topics (name → partitions).
    public static func startBroker(brokers: Int = 1, topics: [String: Int] = [:]) throws -> EmbeddedKafka {
        let kafka = try EmbeddedKafka(brokers: brokers, logger: logger)
        for (name, partitions) in topics.sorted(by: { $0.key < $1.key }) {
            try kafka.createTopic(name, partitions: partitions)
        }
        return kafka
    }

    /// A producer configuration for tests: short timeouts so failures show up in seconds.
    public static func producerConfiguration(_ kafka: EmbeddedKafka) -> KafkaProducerConfiguration {
        var configuration = KafkaProducerConfiguration(bootstrapServers: kafka.brokers)
        configuration.messageTimeout = .seconds(10)
        configuration.client.reconnectBackoffMax = .milliseconds(500)
        configuration.shutdownFlushTimeout = .seconds(5)
        return configuration
    }

    /// A consumer configuration for tests: session 6 s, heartbeat 0.5 s, as the embedded broker needs
    /// for rebalances to take seconds rather than most of a minute.
    public static func consumerConfiguration(_ kafka: EmbeddedKafka, groupID: String?) -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: kafka.brokers, groupID: groupID)
        configuration.sessionTimeout = .seconds(6)
        configuration.heartbeatInterval = .milliseconds(500)
        configuration.autoCommitInterval = .milliseconds(200)
        configuration.client.reconnectBackoffMax = .milliseconds(500)
        return configuration
    }

    /// Thrown by ``withTimeout(_:_:)`` when the deadline passes first.
    public struct TimeoutError: Error, CustomStringConvertible {
        public let duration: Duration
        public var description: String { "timed out after \(duration)" }
    }

    /// Runs `body`, cancelling it and throwing ``TimeoutError`` after `duration`: no test hangs.
    public static func withTimeout<T: Sendable>(
        _ duration: Duration,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: duration)
                throw TimeoutError(duration: duration)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Checks `condition` every 100 ms until it holds; throws ``TimeoutError`` after `timeout`.
    public static func eventually(timeout: Duration = .seconds(45), _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try !condition() {
            guard ContinuousClock.now < deadline else { throw TimeoutError(duration: timeout) }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Reads records until `count` arrived (or `timeout` passed, throwing ``TimeoutError``), calling
    /// `onRecord` for each (e.g. to store its offset).
    public static func collect(
        _ count: Int,
        from consumer: KafkaConsumer,
        timeout: Duration = .seconds(30),
        onRecord: @escaping @Sendable (ConsumerRecord) throws -> Void = { _ in }
    ) async throws -> [ConsumerRecord] {
        try await withTimeout(timeout) {
            var records: [ConsumerRecord] = []
            for try await record in consumer.records {
                try onRecord(record)
                records.append(record)
                if records.count == count { break }
            }
            return records
        }
    }
}
