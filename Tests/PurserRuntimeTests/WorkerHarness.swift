import Foundation
import Logging
import Metrics
import PurserKafka
import PurserRuntime
import PurserSchema
import PurserTesting
import ServiceLifecycle
import Synchronization

/// A worker whose behaviour is written in each record's value, and which logs what it did.
///
/// Values: `ok`, `poison` (not a CloudEvent: the schema decoder's error), `flaky:N` (fails the first N attempts),
/// `slow:MS`, `gate` (waits until the test opens ``gate``). Each processed record is echoed to `output`.
struct ScriptedWorker: Worker {
    let name: String
    let inputTopics: [String]
    let output: String
    let log: ProcessingLog

    func process(_ record: InputRecord, context: WorkerContext) async throws -> [OutputRecord] {
        let value = String(decoding: record.value ?? [], as: UTF8.self)
        log.started(record, attempt: context.attempt)
        defer { log.stopped() }
        switch value.split(separator: ":").first.map(String.init) ?? "" {
        case "poison":
            // The schema module's decoder rejects it; the runtime must dead-letter, not retry or crash.
            _ = try CloudEventEnvelope(recordValue: record.value ?? [])
        case "flaky":
            if context.attempt <= Int(value.dropFirst("flaky:".count))! { throw RetryLaterError("not yet") }
        case "slow":
            try await Task.sleep(for: .milliseconds(Int(value.dropFirst("slow:".count))!))
        case "gate":
            try await log.waitForGate()
        case "needs":
            // Waits until a record with the given value has started: proves records of other keys overlap.
            try await log.waitUntilStarted(value: String(value.dropFirst("needs:".count)))
        default:
            break
        }
        log.finished(record)
        return [OutputRecord(topic: output, key: record.key, value: record.value, headers: record.headers)]
    }

    func recordDeadLettered(_ record: InputRecord) {
        log.deadLettered(record)
    }
}

/// What a ``ScriptedWorker`` did, shared with the test.
final class ProcessingLog: Sendable {
    struct Entry: Sendable {
        var key: String
        var value: String
        var partition: Int32
        var offset: Int64
        var attempt: Int
    }

    private struct State {
        var started: [Entry] = []
        var finished: [Entry] = []
        var deadLettered: [Entry] = []
        var running = 0
        var maxRunning = 0
        var gateOpen = false
    }

    private let state = Mutex(State())

    func started(_ record: InputRecord, attempt: Int) {
        state.withLock { state in
            state.started.append(Self.entry(record, attempt: attempt))
            state.running += 1
            state.maxRunning = max(state.maxRunning, state.running)
        }
    }

    /// A record's processing succeeded.
    func finished(_ record: InputRecord) {
        state.withLock { $0.finished.append(Self.entry(record, attempt: 0)) }
    }

    /// The runtime told the worker it dead-lettered a record.
    func deadLettered(_ record: InputRecord) {
        state.withLock { $0.deadLettered.append(Self.entry(record, attempt: 0)) }
    }

    /// A record's processing ended, successfully or not.
    func stopped() {
        state.withLock { $0.running -= 1 }
    }

    var started: [Entry] { state.withLock { $0.started } }
    var finished: [Entry] { state.withLock { $0.finished } }
    var deadLettered: [Entry] { state.withLock { $0.deadLettered } }
    var maxRunning: Int { state.withLock { $0.maxRunning } }

    func openGate() { state.withLock { $0.gateOpen = true } }

    func waitForGate() async throws {
        try await poll { $0.gateOpen }
    }

    func waitUntilStarted(value: String) async throws {
        try await poll { $0.started.contains { $0.value == value } }
    }

    /// Waits until `condition` holds, checking every 10 ms; cancellation ends the wait.
    private func poll(_ condition: @Sendable (State) -> Bool) async throws {
        while !state.withLock({ condition($0) }) {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    private static func entry(_ record: InputRecord, attempt: Int) -> Entry {
        Entry(
            key: record.keyString ?? "",
            value: String(decoding: record.value ?? [], as: UTF8.self),
            partition: record.partition,
            offset: record.offset,
            attempt: attempt
        )
    }
}

/// An embedded broker with an input, an output and a dead-letter topic, and helpers around them.
struct WorkerFixture {
    let kafka: EmbeddedKafka
    let input = KafkaTesting.uniqueName("in")
    let output = KafkaTesting.uniqueName("out")
    let workerName = KafkaTesting.uniqueName("worker")
    let log = ProcessingLog()
    let producer: KafkaProducer

    init(partitions: Int = 1) throws {
        kafka = try KafkaTesting.startBroker()
        try kafka.createTopic(input, partitions: partitions)
        try kafka.createTopic(output, partitions: partitions)
        producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        try kafka.createTopic(deadLetterTopic, partitions: 1)
    }

    var deadLetterTopic: String { "purser.dlq.\(workerName).v1" }
    var worker: ScriptedWorker { ScriptedWorker(name: workerName, inputTopics: [input], output: output, log: log) }

    /// A configuration for tests: short session and commit interval, quick retries.
    func configuration(maxInFlight: Int = 16) -> PurserConfiguration {
        var configuration = PurserConfiguration(brokers: .servers(kafka.brokers))
        // The embedded broker does not store offsets sent in a transaction.
        configuration.processingGuarantee = .atLeastOnce
        configuration.maxInFlight = maxInFlight
        configuration.commitInterval = .milliseconds(100)
        configuration.retry.initialDelay = .milliseconds(20)
        configuration.retry.maxAttempts = 4
        configuration.shutdownDrainTimeout = .seconds(1)
        configuration.kafkaProperties = [
            "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "500",
            "auto.commit.interval.ms": "100",
            "reconnect.backoff.max.ms": "500",
        ]
        return configuration
    }

    func send(_ key: String, _ value: String, partition: Int32? = nil) async throws -> DeliveryReport {
        try await producer.send(ProducerRecord(topic: input, partition: partition, key: key, value: value))
    }

    /// Every record of `topic` from the beginning, waiting until there are `count` (bounded).
    func read(_ topic: String, count: Int, partitions: Int32 = 1) async throws -> [ConsumerRecord] {
        let consumer = try KafkaConsumer(
            configuration: KafkaTesting.consumerConfiguration(kafka, groupID: nil),
            logger: KafkaTesting.logger
        )
        try consumer.assign((0..<partitions).map { TopicPartitionOffset(topic, $0, offset: TopicPartitionOffset.beginning) })
        defer { Task { await consumer.shutdown() } }
        return try await KafkaTesting.collect(count, from: consumer)
    }

    /// The worker group's committed offset of an input partition (`nil` when none).
    func committedOffset(partition: Int32 = 0) async throws -> Int64? {
        let consumer = try KafkaConsumer(
            configuration: KafkaTesting.consumerConfiguration(kafka, groupID: "purser-\(workerName)"),
            logger: KafkaTesting.logger
        )
        let offsets = try await consumer.committed([TopicPartition(input, partition)])
        await consumer.shutdown()
        return offsets.first.map(\.offset).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// Waits (bounded) until `condition` holds.
    func eventually(
        _ what: String,
        timeout: Duration = .seconds(30),
        _ condition: @escaping @Sendable () async throws -> Bool
    ) async throws {
        try await KafkaTesting.withTimeout(timeout) {
            while try await !condition() {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Runs a worker service in a service group while `body` runs, then shuts it down gracefully.
    func withWorker<T: Sendable>(
        configuration: PurserConfiguration? = nil,
        metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance,
        _ body: @escaping @Sendable (WorkerService) async throws -> T
    ) async throws -> T {
        let service = WorkerService(
            worker: worker,
            configuration: configuration ?? self.configuration(),
            logger: KafkaTesting.logger,
            metricsFactory: metricsFactory
        )
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], logger: KafkaTesting.logger)
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(service))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }
}
