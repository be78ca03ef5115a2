import Calypso
import CalypsoSandbox
import Foundation
import Logging
import PurserIngest
import PurserKafka
import PurserRuntime
import PurserSchema
import PurserTesting
import PurserWorkers
import ServiceLifecycle

/// Services running in their own `ServiceGroup` until ``stop()``.
final class RunningServices: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(_ services: [any Service]) {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { .init(service: $0) },
                logger: KafkaTesting.logger
            )
        )
        self.group = group
        task = Task { try await group.run() }
    }

    /// Graceful shutdown, bounded.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await KafkaTesting.withTimeout(.seconds(60)) { [task] in try await task.value }
    }
}

/// The whole pipeline on loopback: an embedded broker with every topic (under a unique prefix), a real
/// ingest, the calypso sandbox delivering its webhooks to that ingest, and the workers on demand.
final class Pipeline: Sendable {
    static let account = "0x00000000000000000000000000000000000000aa"
    static let apiKeyPair = CalypsoKeyPair(key: "c529e14832b34b74972365cf7bf02430", secret: "b823a6b9ea72408583cef9ec8d67fa52")
    static let webhookKeyPair = CalypsoKeyPair(key: "5f0c1e2d3b4a59687766554433221100", secret: "0a1b2c3d4e5f60718293a4b5c6d7e8f9")

    let kafka: EmbeddedKafka
    let topics: TopicNames
    let partitions: Int
    let admin: KafkaAdmin
    let producer: KafkaProducer
    let sandbox: CalypsoSandbox
    let calypso: CalypsoClient
    private let ingest: RunningServices
    private let sandboxServices: RunningServices

    /// - Parameters:
    ///   - partitions: Of every co-partitioned topic.
    ///   - faults: The sandbox's faults from the start (duplicates, reordering, API errors, latency).
    init(partitions: Int = 3, faults: SandboxFaults = SandboxFaults(), kafka: EmbeddedKafka? = nil) async throws {
        let kafka = try kafka ?? KafkaTesting.startBroker()
        let topics = TopicNames(prefix: KafkaTesting.uniqueName("t") + ".")
        for name in TopicNames.Base.all.map(topics.name) {
            try kafka.createTopic(name, partitions: partitions)
        }
        for worker in TopicNames.Worker.all {
            try kafka.createTopic(topics.deadLetter(worker: worker), partitions: 1)
        }
        self.kafka = kafka
        self.topics = topics
        self.partitions = partitions
        admin = try KafkaAdmin(options: KafkaClientOptions(bootstrapServers: kafka.brokers), logger: KafkaTesting.logger)
        producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)

        // Ingest first: the sandbox needs its address.
        var ingestConfiguration = IngestConfiguration(webhookKeyPairs: [Self.webhookKeyPair])
        ingestConfiguration.host = "127.0.0.1"
        ingestConfiguration.port = 0
        ingestConfiguration.spoolDirectory = nil
        let ingestProducer = try KafkaProducer(
            configuration: IngestService.producerConfiguration(brokers: kafka.brokers, publishTimeout: .seconds(5)),
            logger: KafkaTesting.logger
        )
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let ingestService = try IngestService(
            configuration: ingestConfiguration,
            topic: topics.webhooks,
            producer: ingestProducer,
            logger: KafkaTesting.logger,
            onServerRunning: { portContinuation.yield($0) }
        )
        ingest = RunningServices([ingestProducer, ingestService])
        let ingestPort = try await KafkaTesting.withTimeout(.seconds(20)) {
            var iterator = ports.makeAsyncIterator()
            return await iterator.next() ?? 0
        }

        var sandboxConfiguration = SandboxConfiguration(account: Self.account, apiCredentials: Self.apiKeyPair)
        sandboxConfiguration.port = 0
        sandboxConfiguration.seed = 7
        sandboxConfiguration.webhookURL = "http://127.0.0.1:\(ingestPort)/webhooks/calypso"
        sandboxConfiguration.webhookKeyPair = Self.webhookKeyPair
        sandboxConfiguration.timeScale = 0.001
        sandboxConfiguration.reorderHold = .milliseconds(200)
        sandboxConfiguration.faults = faults
        sandbox = CalypsoSandbox(configuration: sandboxConfiguration, logger: KafkaTesting.logger)
        sandboxServices = RunningServices([sandbox])
        calypso = CalypsoClient(
            configuration: .init(baseURL: try await sandbox.baseURL(), account: Self.account, credentials: Self.apiKeyPair),
            logger: KafkaTesting.logger
        )
    }

    func stop() async throws {
        try await sandboxServices.stop()
        try await ingest.stop()
        try await calypso.shutdown()
        await producer.shutdown()
    }

    /// A worker configuration for tests: short session, commit interval and retries.
    func configuration() -> PurserConfiguration {
        var configuration = PurserConfiguration(brokers: .servers(kafka.brokers))
        configuration.topicPrefix = topics.prefix
        // The embedded broker does not store offsets sent in a transaction.
        configuration.processingGuarantee = .atLeastOnce
        configuration.metricsPort = 0
        configuration.commitInterval = .milliseconds(100)
        configuration.retry.initialDelay = .milliseconds(50)
        configuration.retry.maxDelay = .seconds(1)
        configuration.retry.maxAttempts = 30
        configuration.shutdownDrainTimeout = .seconds(2)
        configuration.calypso.accountID = Self.account
        configuration.kafkaProperties = [
            "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "500",
            "auto.commit.interval.ms": "100",
            "reconnect.backoff.max.ms": "500",
        ]
        return configuration
    }

    /// Starts the workers of `roles` (and the customer table they read) in one group.
    func startWorkers(
        _ roles: [PipelineWorkers.Role] = PipelineWorkers.Role.allCases,
        configure: (inout PurserConfiguration) -> Void = { _ in }
    ) throws -> RunningServices {
        var configuration = configuration()
        configure(&configuration)
        var process = WorkerProcess(configuration: configuration, logger: KafkaTesting.logger)
        process.host = "127.0.0.1"
        let pipeline = PipelineWorkers(configuration: configuration, calypso: calypso, logger: KafkaTesting.logger)
        return RunningServices(try pipeline.services(roles, process: process))
    }

    // MARK: Calypso

    /// A new customer with an active purse for `currency`; blocked at Calypso when `blocked`.
    func customer(currency: String = "ETH", blocked: Bool = false) async throws -> (id: String, purse: CalypsoPurseAddress) {
        let customer = try await calypso.createCustomer(CalypsoCustomerDetails())
        let purse = try await calypso.address(customerId: customer.id, currency: currency)
        if blocked { _ = try await calypso.blockCustomer(id: customer.id) }
        return (customer.id, purse)
    }

    /// Publishes `purser.customer.changed` for `customerId`, as `purser customers block` does.
    func publishCustomerChange(_ customerId: String, blocked: Bool) async throws {
        let change = CustomerChanged(
            customerId: customerId,
            email: nil,
            description: nil,
            externalId: nil,
            blocked: blocked,
            changedAt: .now,
            changedBy: .cli
        )
        let event = CloudEvent(data: change, source: "purser", traceparent: .random())
        _ = try await producer.send(ProducerRecord(topic: topics.customers, key: Array(customerId.utf8), value: event.recordValue()))
    }

    // MARK: Kafka

    /// Every record of `topic`, partition by partition, up to the ends it has now.
    func records(_ topic: String) async throws -> [ConsumerRecord] {
        var records: [ConsumerRecord] = []
        for partition in 0..<Int32(partitions) {
            records += try await admin.readPartition(TopicPartition(topic, partition))
        }
        return records
    }

    func events<Data: EventData>(_ type: Data.Type, in topic: String) async throws -> [CloudEvent<Data>] {
        try await records(topic).map { try CloudEvent<Data>(recordValue: $0.value ?? []) }
    }

    /// Records in `topic` (sum of the partitions' watermark spans).
    func count(_ topic: String, partitions: Int? = nil) async throws -> Int {
        var total: Int64 = 0
        for partition in 0..<Int32(partitions ?? self.partitions) {
            let (low, high) = try await admin.watermarks(TopicPartition(topic, partition))
            total += high - low
        }
        return Int(total)
    }

    /// Waits until `group` has committed every record of `topic` there is now: everything published so
    /// far has been processed and its outputs acknowledged.
    func waitUntilConsumed(group: String, topic: String, timeout: Duration = .seconds(90)) async throws {
        var highs: [Int32: Int64] = [:]
        for partition in 0..<Int32(partitions) {
            highs[partition] = try await admin.watermarks(TopicPartition(topic, partition)).high
        }
        let ends = highs
        try await eventually(timeout: timeout) {
            let committed = try await self.admin.committedOffsets(group: group, topics: [topic])
            return ends.allSatisfy { partition, end in
                end == 0 || committed.contains { $0.topicPartition.partition == partition && $0.offset >= end }
            }
        }
    }

    /// Checks `condition` every 100 ms until it holds; throws after `timeout`.
    func eventually(timeout: Duration = .seconds(60), _ condition: @escaping @Sendable () async throws -> Bool) async throws {
        try await KafkaTesting.withTimeout(timeout) {
            while try await !condition() {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}

extension Array {
    /// How many elements share each key.
    func counted<Key: Hashable>(by key: (Element) -> Key) -> [Key: Int] {
        reduce(into: [:]) { $0[key($1), default: 0] += 1 }
    }
}
