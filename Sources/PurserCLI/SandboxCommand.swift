import ArgumentParser
import Calypso
import CalypsoSandbox
import Foundation
import Logging
import PurserRuntime
import ServiceLifecycle

/// `calypso-sandbox`: the local Calypso emulator as a process.
///
/// Environment: `SANDBOX_PORT`, `CALYPSO_ACCOUNT_ID`, `CALYPSO_API_KEY`, `CALYPSO_API_SECRET`,
/// `CALYPSO_WEBHOOK_KEY`, `CALYPSO_WEBHOOK_SECRET` (each secret also as `…_FILE`). Without merchant
/// credentials it accepts the example pair from Calypso's documentation and says so.
public struct SandboxCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "calypso-sandbox",
        abstract: "Run a local emulator of Calypso's customer-purse API and webhook delivery."
    )

    @Option(help: "Port to listen on; 0 picks a free one (env SANDBOX_PORT).")
    var port: Int?

    @Option(help: "Interface to bind.")
    var host = "127.0.0.1"

    @Option(help: "Seed of every id, address and fault decision.")
    var seed: UInt64?

    @Option(help: "Multiplies Calypso's delivery clock (retry gaps, blocking window); 0.001 makes 30 s into 30 ms.")
    var timeScale = 1.0

    @Option(help: "Deliver every customer-purse webhook here, signed with CALYPSO_WEBHOOK_KEY/SECRET.")
    var webhookURL: String?

    @Option(help: "Milliseconds added to every API answer.")
    var apiLatencyMs = 0

    @Option(help: "Share of API calls answered with a 500 error (0...1).")
    var apiErrorRate = 0.0

    @Option(help: "Share of delivered webhooks sent twice (0...1).")
    var duplicateRate = 0.0

    @Option(help: "Share of webhooks delivered after a later one (0...1).")
    var outOfOrderRate = 0.0

    @Option(help: "Milliseconds transaction/get trails a deposit's webhooks.")
    var apiLagMs = 0

    /// Every variable ``run()`` reads, `…_FILE` variants included.
    static let environmentVariables = [
        "SANDBOX_PORT", "CALYPSO_ACCOUNT_ID", "CALYPSO_API_KEY", "CALYPSO_API_KEY_FILE", "CALYPSO_API_SECRET",
        "CALYPSO_API_SECRET_FILE", "CALYPSO_WEBHOOK_KEY", "CALYPSO_WEBHOOK_SECRET", "CALYPSO_WEBHOOK_SECRET_FILE",
    ]

    public init() {}

    /// Parses the process arguments and runs. Top-level code resolves `main()` to
    /// ParsableCommand's synchronous entry point, which refuses async commands; an async
    /// function resolves it to the async one.
    public static func runAsRoot() async {
        await main()
    }

    public func run() async throws {
        var logger = Logger(label: "calypso-sandbox")
        logger.logLevel = .info
        let environment = EnvironmentReader()
        let credentials: CalypsoKeyPair
        if let key = try environment.secret("CALYPSO_API_KEY"),
            let secret = try environment.secret("CALYPSO_API_SECRET")
        {
            credentials = CalypsoKeyPair(key: key.value, secret: secret.value)
        } else {
            credentials = Self.documentationPair
            logger.warning(
                "CALYPSO_API_KEY/CALYPSO_API_SECRET not set: accepting the example pair from Calypso's docs",
                metadata: ["sandbox.key": "\(credentials.key)"]
            )
        }
        var configuration = SandboxConfiguration(
            account: environment.string("CALYPSO_ACCOUNT_ID") ?? Self.exampleAccount,
            apiCredentials: credentials
        )
        configuration.host = host
        configuration.port = try port ?? environment.integer("SANDBOX_PORT", in: 0...65535) ?? 8081
        configuration.seed = seed
        configuration.timeScale = timeScale
        configuration.webhookURL = webhookURL
        if let keys = environment.string("CALYPSO_WEBHOOK_KEY"),
            let secret = try environment.secret("CALYPSO_WEBHOOK_SECRET")
        {
            // During a rotation the lists name several pairs; the sandbox signs with the first.
            configuration.webhookKeyPair = try CalypsoKeyPair.pairs(keys: keys, secrets: secret.value).first
        }
        var faults = SandboxFaults()
        faults.apiLatency = .milliseconds(apiLatencyMs)
        faults.apiErrorRate = apiErrorRate
        faults.duplicateDeliveryRate = duplicateRate
        faults.outOfOrderDeliveryRate = outOfOrderRate
        faults.apiLag = .milliseconds(apiLagMs)
        do {
            configuration.faults = try faults.validated()
        } catch {
            throw ValidationError(error.message)
        }

        let sandbox = CalypsoSandbox(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            services: [sandbox],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await group.run()
    }

    /// Calypso's documented example key pair, accepted when no credentials are configured.
    static let documentationPair = CalypsoKeyPair(
        key: "c529e14832b34b74972365cf7bf02430",
        secret: "b823a6b9ea72408583cef9ec8d67fa52"
    )
    static let exampleAccount = "0x0000000000000000000000000000000000000001"
}
