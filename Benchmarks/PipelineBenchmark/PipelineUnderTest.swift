import AsyncHTTPClient
import Calypso
import CalypsoSandbox
import Foundation
import Logging
import PurserIngest
import PurserKafka
import PurserRuntime
import PurserSchema
import PurserWorkers
import ServiceLifecycle

/// Services running in their own `ServiceGroup` until ``stop()``.
struct RunningGroup {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(_ services: [any Service], logger: Logger) {
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
        self.group = group
        task = Task { try await group.run() }
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

/// The first port an `onServerRunning` callback reports.
struct PortReport {
    let ports: AsyncStream<Int>
    let callback: @Sendable (Int) async -> Void

    init() {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        self.ports = ports
        callback = { continuation.yield($0) }
    }

    func port() async -> Int {
        var iterator = ports.makeAsyncIterator()
        return await iterator.next() ?? 0
    }
}

/// The whole pipeline in this process on its own embedded broker: ingest, the sandbox and the four
/// workers; ``SignedWebhooks`` plays Calypso's webhook delivery.
struct PipelineUnderTest {
    static let account = "0x00000000000000000000000000000000000000aa"
    static let apiKeyPair = CalypsoKeyPair(key: "c529e14832b34b74972365cf7bf02430", secret: "b823a6b9ea72408583cef9ec8d67fa52")
    static let webhookKeyPair = CalypsoKeyPair(key: "5f0c1e2d3b4a59687766554433221100", secret: "0a1b2c3d4e5f60718293a4b5c6d7e8f9")

    let kafka: EmbeddedKafka
    let topics = TopicNames(prefix: "")
    let partitions: Int
    let sandbox: CalypsoSandbox
    let webhooks: SignedWebhooks
    let calypso: CalypsoClient
    private let groups: [RunningGroup]

    /// Starts everything; the workers run with `guarantee`.
    init(guarantee: ProcessingGuarantee, partitions: Int, client: HTTPClient, logger: Logger) async throws {
        self.partitions = partitions
        kafka = try EmbeddedKafka(brokers: 1, logger: logger)
        for name in TopicNames.Base.all.map(topics.name) {
            try kafka.createTopic(name, partitions: partitions)
        }
        for worker in TopicNames.Worker.all {
            try kafka.createTopic(topics.deadLetter(worker: worker), partitions: 1)
        }

        var ingestConfiguration = IngestConfiguration(webhookKeyPairs: [Self.webhookKeyPair])
        ingestConfiguration.host = "127.0.0.1"
        ingestConfiguration.port = 0
        ingestConfiguration.spoolDirectory = nil
        let ingestProducer = try KafkaProducer(
            configuration: IngestService.producerConfiguration(brokers: kafka.brokers, publishTimeout: .seconds(5)),
            logger: logger
        )
        let ingestPort = PortReport()
        let ingest = try IngestService(
            configuration: ingestConfiguration,
            topic: topics.webhooks,
            producer: ingestProducer,
            logger: logger,
            onServerRunning: ingestPort.callback
        )
        var groups = [RunningGroup([ingestProducer, ingest], logger: logger)]
        webhooks = SignedWebhooks(
            ingestURL: "http://127.0.0.1:\(await ingestPort.port())/webhooks/calypso",
            keyPair: Self.webhookKeyPair,
            client: client
        )

        // No subscription: the sandbox shows each deposit's final state to `transaction/get` at once, and
        // the benchmark posts the webhooks.
        var sandboxConfiguration = SandboxConfiguration(account: Self.account, apiCredentials: Self.apiKeyPair)
        sandboxConfiguration.port = 0
        sandboxConfiguration.seed = 11
        sandbox = CalypsoSandbox(configuration: sandboxConfiguration, logger: logger)
        groups.append(RunningGroup([sandbox], logger: logger))
        calypso = CalypsoClient(
            configuration: .init(baseURL: try await sandbox.baseURL(), account: Self.account, credentials: Self.apiKeyPair),
            logger: logger
        )

        var configuration = PurserConfiguration(brokers: .servers(kafka.brokers))
        configuration.processingGuarantee = guarantee
        configuration.fetchMaxWait = EmbeddedKafka.clientFetchMaxWait
        configuration.metricsPort = 0
        // Also the transaction length with exactly_once: outputs become readable to read_committed
        // consumers of a real cluster when their transaction commits.
        configuration.commitInterval = .milliseconds(100)
        configuration.calypso.accountID = Self.account
        configuration.kafkaProperties = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
        var process = WorkerProcess(configuration: configuration, logger: logger)
        process.host = "127.0.0.1"
        let workers = PipelineWorkers(configuration: configuration, calypso: calypso, logger: logger)
        groups.append(RunningGroup(try workers.services(process: process), logger: logger))
        self.groups = groups
    }

    /// `count` customers, each with an active ETH purse.
    func makeCustomers(_ count: Int) async throws -> [String] {
        var customers: [String] = []
        for _ in 0..<count {
            let customer = try await calypso.createCustomer(CalypsoCustomerDetails())
            _ = try await calypso.address(customerId: customer.id, currency: "ETH")
            customers.append(customer.id)
        }
        return customers
    }

    /// A confirmed deposit at the sandbox, then its two webhooks (pending compliance, funds received)
    /// posted to ingest.
    func deposit(_ index: Int, customers: [String]) async throws {
        let customerId = customers[index % customers.count]
        let amount = "\(index / 1000).\(String(format: "%03d", index % 1000))000000000000001"
        var deposit = SandboxDeposit(customerId: customerId, currency: "ETH", amount: try DecimalAmount(amount))
        deposit.includesMempoolEvent = false
        deposit.settlement = .never
        let receipt = try sandbox.simulateDeposit(deposit)
        await webhooks.post(deposit: index, customerId: customerId, amount: amount, receipt: receipt)
    }

    func stop() async throws {
        for group in groups.reversed() { try await group.stop() }
        try await calypso.shutdown()
    }
}
