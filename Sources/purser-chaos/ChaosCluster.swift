import Calypso
import CalypsoSandbox
import Foundation
import Logging
import PurserAudit
import PurserKafka
import PurserSchema
import Synchronization

/// One scenario's world: an embedded broker hosted here (so faults can be injected), the sandbox hosted
/// here, and ingest plus two replicas of every worker as separate processes reaching both over loopback.
final class ChaosCluster: Sendable {
    static let account = "0x00000000000000000000000000000000000000cc"
    static let apiKeyPair = CalypsoKeyPair(key: "c529e14832b34b74972365cf7bf02430", secret: "b823a6b9ea72408583cef9ec8d67fa52")
    static let webhookKeyPair = CalypsoKeyPair(key: "5f0c1e2d3b4a59687766554433221100", secret: "0a1b2c3d4e5f60718293a4b5c6d7e8f9")
    static let partitions = 4
    static let replicas = 2
    /// Each worker executable (also the name of its consumer group) and the topics it consumes.
    static let workers: [(executable: String, inputs: @Sendable (TopicNames) -> [String])] = [
        ("purser-transaction-fetcher", { [$0.webhooks] }),
        ("purser-customer-policy", { [$0.transactions] }),
        ("purser-purse-renewer", { [$0.webhooks] }),
        ("purser-deposit-crediter", { [$0.depositsApproved] }),
    ]

    let kafka: EmbeddedKafka
    let topics = TopicNames(prefix: "")
    let sandbox: CalypsoSandbox
    let published: PublishedDeposits
    let ingestPort: Int
    private let sandboxURL: String
    private let binaries: URL
    private let workDirectory: URL
    private let processes = Mutex<[String: ManagedProcess]>([:])
    private let lag = Mutex(0)
    private let logger: Logger

    /// The broker and its topics; `sandbox` must deliver to `ingestPort`.
    init(
        kafka: EmbeddedKafka,
        sandbox: CalypsoSandbox,
        sandboxURL: String,
        ingestPort: Int,
        binaries: URL,
        workDirectory: URL,
        logger: Logger
    ) throws {
        self.kafka = kafka
        self.sandbox = sandbox
        self.sandboxURL = sandboxURL
        self.ingestPort = ingestPort
        self.binaries = binaries
        self.workDirectory = workDirectory
        self.logger = logger
        published = PublishedDeposits(
            admin: try KafkaAdmin(options: KafkaClientOptions(bootstrapServers: kafka.brokers), logger: logger),
            topics: topics
        )
    }

    /// A broker with every topic of the pipeline.
    static func makeBroker(logger: Logger) throws -> EmbeddedKafka {
        let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
        let topics = TopicNames(prefix: "")
        for name in TopicNames.Base.all.map(topics.name) { try kafka.createTopic(name, partitions: partitions) }
        for worker in TopicNames.Worker.all { try kafka.createTopic(topics.deadLetter(worker: worker), partitions: 1) }
        return kafka
    }

    // MARK: Processes

    /// Names of every process: `ingest`, then `<worker>-1`, `<worker>-2` for each worker.
    static var processNames: [String] {
        ["ingest"] + workers.flatMap { worker in (1...replicas).map { "\(worker.executable)-\($0)" } }
    }

    static var workerProcessNames: [String] { Array(processNames.dropFirst()) }

    func startAll() throws {
        for name in Self.processNames { try start(name) }
    }

    /// Starts (or restarts) the process `name`.
    func start(_ name: String) throws {
        let executable = name == "ingest" ? "purser-ingest" : String(name[..<name.lastIndex(of: "-")!])
        let process = try ManagedProcess(
            name: name,
            executable: binaries.appendingPathComponent(executable),
            environment: environment(ingest: name == "ingest"),
            log: workDirectory.appendingPathComponent("\(name).log")
        )
        processes.withLock { $0[name] = process }
    }

    func process(_ name: String) -> ManagedProcess? { processes.withLock { $0[name] } }

    /// SIGTERM to every process named, all at once; the exit statuses of those that drained in time.
    @discardableResult
    func stop(_ names: [String]) async -> [String: Int32?] {
        await withTaskGroup(of: (String, Int32?).self) { group in
            for name in names {
                guard let process = process(name) else { continue }
                group.addTask { (name, await process.stop()) }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
    }

    /// Stops every process; the exit statuses, as ``stop(_:)``.
    @discardableResult
    func stopAll() async -> [String: Int32?] { await stop(Self.processNames.reversed()) }

    private func environment(ingest: Bool) -> [String: String] {
        var environment = [
            "KAFKA_BROKERS": kafka.bootstrapServers,
            "KAFKA_FETCH_MAX_WAIT_MS": String(Int(EmbeddedKafka.clientFetchMaxWait / .milliseconds(1))),
            "KAFKA_PROPERTIES_FILE": workDirectory.appendingPathComponent("kafka.properties").path,
            "CALYPSO_API_URL": sandboxURL,
            "CALYPSO_ACCOUNT_ID": Self.account,
            "CALYPSO_API_KEY": Self.apiKeyPair.key,
            "CALYPSO_API_SECRET": Self.apiKeyPair.secret,
            "PROCESSING_GUARANTEE": "at_least_once",
            "METRICS_PORT": "0",
            "LOG_LEVEL": "warning",
        ]
        if ingest {
            environment["INGEST_PORT"] = String(ingestPort)
            environment["INGEST_SPOOL_DIR"] = workDirectory.appendingPathComponent("spool").path
            environment["INGEST_PUBLISH_TIMEOUT"] = "2s"
            environment["CALYPSO_WEBHOOK_KEY"] = Self.webhookKeyPair.key
            environment["CALYPSO_WEBHOOK_SECRET"] = Self.webhookKeyPair.secret
        }
        return environment
    }

    /// Short sessions, as the embedded broker needs for rebalances to take seconds.
    static func writeKafkaProperties(in directory: URL) throws {
        try "session.timeout.ms=6000\nheartbeat.interval.ms=500\nreconnect.backoff.max.ms=500\n"
            .write(to: directory.appendingPathComponent("kafka.properties"), atomically: true, encoding: .utf8)
    }

    // MARK: Traffic

    /// `count` customers with an ETH purse, every `blockedEvery`-th blocked at Calypso.
    func makeCustomers(_ count: Int, blockedEvery: Int, calypso: CalypsoClient) async throws -> [String] {
        var customers: [String] = []
        for index in 0..<count {
            let customer = try await calypso.createCustomer(CalypsoCustomerDetails())
            _ = try await calypso.address(customerId: customer.id, currency: "ETH")
            if index % blockedEvery == blockedEvery - 1 { _ = try await calypso.blockCustomer(id: customer.id) }
            customers.append(customer.id)
        }
        return customers
    }

    /// Simulates `perSecond` confirmed deposits a second for `duration`, spread over `customers`; returns
    /// how many were made.
    @discardableResult
    func sendDeposits(perSecond: Double, for duration: Duration, customers: [String], firstIndex: Int = 0) async throws -> Int {
        let start = ContinuousClock.now
        let count = Int(perSecond * duration.seconds)
        for offset in 0..<count {
            try await Task.sleep(until: start + .seconds(Double(offset) / perSecond), clock: .continuous)
            let index = firstIndex + offset
            let amount = try DecimalAmount("\(index).\(String(format: "%06d", index % 999_983))000000000001")
            try sandbox.simulateDeposit(SandboxDeposit(customerId: customers[index % customers.count], currency: "ETH", amount: amount))
        }
        return count
    }

    // MARK: Observation

    /// The largest lag (records not yet committed, all groups) seen since the cluster started sampling.
    var maxLag: Int { lag.withLock { $0 } }

    /// Samples the groups' total lag every 500 ms until cancelled; a sample the broker cannot answer
    /// (it is down) is skipped.
    func sampleLag() async {
        while !Task.isCancelled {
            if let total = try? await totalLag() { lag.withLock { $0 = max($0, total) } }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    func totalLag() async throws -> Int {
        var total = 0
        for worker in Self.workers { total += try await published.lag(group: worker.executable, topics: worker.inputs(topics)) }
        return total
    }

    /// Waits until every confirmed deposit of the ledger was credited or held, the sandbox has nothing
    /// left to deliver and every group has committed everything; returns when that was first seen,
    /// `nil` when `timeout` passed first.
    func waitUntilSettled(timeout: Duration) async -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await isSettled()) == true { return .now }
            try? await Task.sleep(for: .milliseconds(500))
        }
        return nil
    }

    private func isSettled() async throws -> Bool {
        let expected = sandbox.ledger().customers.reduce(0) { $0 + $1.confirmed.count }
        guard try await published.count(topics.depositsCredited) + published.count(topics.depositsHeld) >= expected else { return false }
        guard try deliveries().pending == 0 else { return false }
        return try await totalLag() == 0
    }

    /// The sandbox's deliveries to ingest so far.
    func deliveries() throws -> DeliveryStatistics {
        try sandbox.deliveryStatistics(requestId: subscriptionRequestId())
    }

    /// How many webhooks ingest answered 200 are not on the webhooks topic: each one a webhook lost after
    /// ingest took responsibility for it (a deposit's other confirming webhook would hide it from the audit).
    func acknowledgedWebhooksMissing() async throws -> Int {
        let acknowledged = try sandbox.acknowledgedWebhookIds(requestId: subscriptionRequestId())
        let stored = Set(try await published.events(WebhookReceived.self, in: topics.webhooks).map(\.data.eventId))
        return acknowledged.filter { !stored.contains(String($0)) }.count
    }

    private func subscriptionRequestId() throws -> String {
        guard let subscription = sandbox.webhookSubscriptions().first else {
            throw ChaosError("the sandbox has no webhook subscription")
        }
        return subscription.requestId
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
