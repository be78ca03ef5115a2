import Calypso
import Foundation
import Hummingbird
import Logging
import PurserSchema
import ServiceLifecycle
import Synchronization

/// A local stand-in for Calypso's customer-purse API and webhook delivery, runnable in-process.
///
/// Run it as a `Service` (in a `ServiceGroup`, or through ``withRunning(_:logger:_:)``), learn
/// its address with ``baseURL()``, call its API with a ``CalypsoClient``, and drive it with the
/// control methods (``simulateDeposit(_:)``, ``expirePurse(id:)``, ``faults``, ``ledger()``),
/// which the `/sandbox/` HTTP endpoints also call.
public final class CalypsoSandbox: Service, Sendable {
    public let configuration: SandboxConfiguration
    let dispatcher: WebhookDispatcher
    let logger: Logger
    private let world: LockedWorld
    private let control: Mutex<Control>
    private let listening = Mutex(Listening())
    /// Every `traceparent` header received, per API path, in arrival order.
    private let traceParents = Mutex<[String: [String]]>([:])

    private struct Control {
        var faults: SandboxFaults
        /// Draws API fault decisions, apart from the world's ids so faults do not shift them.
        var random: SeededRandom
    }

    private struct Listening {
        var port: Int?
        var failure: String?
    }

    public init(configuration: SandboxConfiguration, logger: Logger = Logger(label: "calypso.sandbox")) {
        self.configuration = configuration
        self.logger = logger
        let seed = configuration.seed ?? UInt64.random(in: .min ... .max)
        var seeds = SeededRandom(seed: seed)
        let world = LockedWorld(SandboxWorld(seed: seeds.next()))
        self.world = world
        control = Mutex(Control(faults: configuration.faults, random: SeededRandom(seed: seeds.next())))
        dispatcher = WebhookDispatcher(
            configuration: .init(
                timeScale: configuration.timeScale,
                deliveryTimeout: configuration.deliveryTimeout,
                reorderHold: configuration.reorderHold
            ),
            seed: seeds.next(),
            faults: configuration.faults,
            logger: logger,
            onSend: { step, instant in world.state.withLock { $0.reveal(step, at: instant) } }
        )
        if let url = configuration.webhookURL {
            let pair = configuration.webhookKeyPair ?? CalypsoKeyPair(key: seeds.hex(32), secret: seeds.hex(32))
            // A fresh dispatcher has no subscription to collide with.
            try? dispatcher.subscribe(
                CalypsoWebhookSubscription(
                    requestId: seeds.uuid(),
                    url: url,
                    notificationEventTypes: WebhookEventType.knownValues.map(\.rawValue),
                    publicKey: pair.key,
                    secretKey: pair.secret,
                    createdDate: SandboxDate.iso(Date()),
                    blockedByErrorCount: false
                )
            )
        }
    }

    // MARK: Lifecycle

    /// Serves the API and delivers webhooks until graceful shutdown or cancellation.
    public func run() async throws {
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: [dispatcher],
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port
                listening.withLock { $0.port = port }
                logger.info("calypso sandbox listening", metadata: ["sandbox.port": "\(port ?? 0)"])
            },
            logger: logger
        )
        do {
            try await app.run()
            listening.withLock { $0 = Listening(failure: "the sandbox stopped") }
        } catch {
            listening.withLock { $0 = Listening(failure: "the sandbox failed: \(error)") }
            throw error
        }
    }

    /// The bound port, once the server listens (with `port: 0`, the one the system picked).
    /// - Throws: ``SandboxError`` when the server stopped or did not listen within `timeout`.
    public func port(timeout: Duration = .seconds(30)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let state = listening.withLock { $0 }
            if let port = state.port { return port }
            if let failure = state.failure {
                throw SandboxError(errorCode: CalypsoErrorCode.internalError, message: failure)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw SandboxError(errorCode: CalypsoErrorCode.internalError, message: "the sandbox did not start listening")
    }

    /// `http://host:port` of the running sandbox.
    public func baseURL() async throws -> String {
        "http://\(configuration.host):\(try await port())"
    }

    /// Runs a sandbox for the duration of `body`, then shuts it down gracefully.
    public static func withRunning<Result>(
        _ configuration: SandboxConfiguration,
        logger: Logger = Logger(label: "calypso.sandbox"),
        _ body: (CalypsoSandbox) async throws -> Result
    ) async throws -> Result {
        let sandbox = CalypsoSandbox(configuration: configuration, logger: logger)
        return try await withRunningService(sandbox, logger: logger, ready: { _ = try await sandbox.port() }) {
            try await body(sandbox)
        }
    }

    // MARK: Control

    /// Sends a deposit to the customer's current address for its currency; its webhooks go out at once.
    /// - Throws: ``SandboxError`` for an unknown customer, an unsupported currency, a customer
    ///   without an active purse for it (call `address/get` first) or a non-positive amount.
    @discardableResult
    public func simulateDeposit(_ deposit: SandboxDeposit) throws(SandboxError) -> SandboxDepositReceipt {
        let apiLag = deposit.apiLag ?? faults.apiLag
        let now = Date()
        let (receipt, events) = try world.state.withLock { world throws(SandboxError) in
            try world.deposit(deposit, apiLag: apiLag, now: now, instant: .now)
        }
        dispatcher.publish(events, at: now)
        return receipt
    }

    /// Credits a deposit made with ``SandboxDeposit/Settlement/later``.
    public func settle(transactionId: String) throws(SandboxError) {
        let event = try world.state.withLock { world throws(SandboxError) in
            try world.settle(transactionId: transactionId)
        }
        dispatcher.publish([event], at: Date())
    }

    /// Expires an active purse: it becomes `ARCHIVED`, `CUSTOMER_PURSE_EXPIRED` goes out, and the
    /// next `address/get` for its customer and address family issues a new purse and address.
    @discardableResult
    public func expirePurse(id: String) throws(SandboxError) -> CalypsoPurseAddress {
        let (purse, event) = try world.state.withLock { world throws(SandboxError) in try world.expirePurse(id: id) }
        dispatcher.publish([event], at: Date())
        return purse
    }

    /// Expires the customer's active purse for `currency`.
    @discardableResult
    public func expirePurse(customerId: String, currency: String) throws(SandboxError) -> CalypsoPurseAddress {
        let id = try world.state.withLock { world throws(SandboxError) in
            try world.activePurseId(customerId: customerId, currency: currency)
        }
        return try expirePurse(id: id)
    }

    /// The fault knobs in force; setting them takes effect for the next call and webhook.
    public var faults: SandboxFaults {
        get { control.withLock { $0.faults } }
        set {
            control.withLock { $0.faults = newValue }
            dispatcher.faults = newValue
        }
    }

    /// Replaces the faults after checking them.
    public func setFaults(_ faults: SandboxFaults) throws(SandboxError) {
        self.faults = try faults.validated()
    }

    /// The `traceparent` headers of the authenticated calls to `path` (e.g.
    /// `/api/v1/customer-purse/transaction/get`), oldest first, so a test can check which traces reached Calypso.
    public func receivedTraceParents(path: String) -> [String] {
        traceParents.withLock { $0[path] ?? [] }
    }

    func recordTraceParent(_ traceParent: String, path: String) {
        traceParents.withLock { $0[path, default: []].append(traceParent) }
    }

    /// Confirmed and declined deposits per customer.
    public func ledger() -> SandboxLedger {
        world.state.withLock { $0.ledger() }
    }

    /// The subscriptions, with their key pairs and blocked flags.
    public func webhookSubscriptions() -> [CalypsoWebhookSubscription] {
        dispatcher.subscriptions()
    }

    /// Lifts a subscription's block and resends what failed meanwhile.
    public func unblockSubscription(requestId: String) throws(SandboxError) {
        try dispatcher.unblock(requestId: requestId)
    }

    public func deliveryStatistics(requestId: String) throws(SandboxError) -> DeliveryStatistics {
        try dispatcher.statistics(requestId: requestId)
    }

    /// The event ids of the subscription's webhooks that its endpoint answered 200 (at least once): each one the
    /// receiver has taken responsibility for.
    public func acknowledgedWebhookIds(requestId: String) throws(SandboxError) -> Set<Int64> {
        try dispatcher.acknowledgedEventIds(requestId: requestId)
    }

    // MARK: For the API routes

    func withWorld<T: Sendable>(_ body: (inout SandboxWorld) throws(SandboxError) -> T) throws(SandboxError) -> T {
        try world.state.withLock { world throws(SandboxError) in try body(&world) }
    }

    /// Draws this call's injected faults: the latency to add and whether to fail it.
    func drawAPIFaults() -> (latency: Duration, errorStatus: Int?) {
        control.withLock { control in
            let fails = control.random.chance(control.faults.apiErrorRate)
            return (control.faults.apiLatency, fails ? control.faults.apiErrorStatus : nil)
        }
    }
}
