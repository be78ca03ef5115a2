import ArgumentParser
import Calypso
import Foundation
import Logging
import PurserRuntime
import PurserWorkers

/// What every worker executable shares: read the configuration, build the role's worker (and the
/// customer table when it reads one), serve `/metrics` and `/health/*`, and run until SIGTERM, then drain,
/// commit and exit.
///
/// Reads the variables of ``PurserConfiguration/init(environment:allowsEmbeddedBroker:)`` and `LOG_LEVEL`;
/// flags override them.
protocol WorkerRoleCommand: AsyncParsableCommand {
    static var role: PipelineWorkers.Role { get }
    var options: WorkerOptions { get }
}

struct WorkerOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers, host:port[,host:port]. Overrides KAFKA_BROKERS.")
    var brokers: String?

    @Option(help: "Port of /metrics and /health/*; 0 picks a free one. Overrides METRICS_PORT.")
    var metricsPort: Int?
}

extension WorkerRoleCommand {
    static func configuration(abstract: String) -> CommandConfiguration {
        CommandConfiguration(commandName: "purser-\(role.rawValue)", abstract: abstract)
    }

    func runWorker() async throws {
        var variables = ProcessInfo.processInfo.environment
        if let brokers = options.brokers { variables["KAFKA_BROKERS"] = brokers }
        if let port = options.metricsPort { variables["METRICS_PORT"] = String(port) }
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "purser-\(Self.role.rawValue)")
        logger.logLevel = variables["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info

        let configuration: PurserConfiguration
        let calypso: CalypsoClient?
        do {
            configuration = try PurserConfiguration(environment: EnvironmentReader(variables), allowsEmbeddedBroker: false)
            calypso = Self.role.callsCalypso ? try configuration.calypso.makeClient(
                    maximumConnections: configuration.maxInFlight,
                    logger: logger
                ) : nil
        } catch {
            throw ValidationError(error.description)
        }
        let pipeline = PipelineWorkers(configuration: configuration, calypso: calypso, logger: logger)
        let process = WorkerProcess(configuration: configuration, logger: logger)
        let workers: [any Worker]
        do {
            workers = try pipeline.workers([Self.role])
        } catch {
            throw ValidationError(error.description)
        }
        let tables = Self.role.readsCustomers ? [pipeline.customers] : []
        do {
            try await process.run(workers: workers, tables: tables)
        } catch {
            try? await calypso?.shutdown()
            throw error
        }
        try await calypso?.shutdown()
    }
}

public struct TransactionFetcherCommand: WorkerRoleCommand {
    static let role = PipelineWorkers.Role.transactionFetcher
    public static let configuration = configuration(
        abstract: "Confirm Calypso deposit webhooks with transaction/get and publish purser.transaction.updated."
    )
    @OptionGroup var options: WorkerOptions
    public init() {}
    public func run() async throws { try await runWorker() }
}

public struct CustomerPolicyCommand: WorkerRoleCommand {
    static let role = PipelineWorkers.Role.customerPolicy
    public static let configuration = configuration(
        abstract: "Decide once per transaction: purser.deposit.approved, deposit.held or deposit.declined."
    )
    @OptionGroup var options: WorkerOptions
    public init() {}
    public func run() async throws { try await runWorker() }
}

public struct PurseRenewerCommand: WorkerRoleCommand {
    static let role = PipelineWorkers.Role.purseRenewer
    public static let configuration = configuration(
        abstract: "On purse expiry, obtain the customer's new address and publish purse.renewed."
    )
    @OptionGroup var options: WorkerOptions
    public init() {}
    public func run() async throws { try await runWorker() }
}

public struct DepositCrediterCommand: WorkerRoleCommand {
    static let role = PipelineWorkers.Role.depositCrediter
    public static let configuration = configuration(
        abstract: "Publish exactly one deposit.credited per approved Calypso transaction."
    )
    @OptionGroup var options: WorkerOptions
    public init() {}
    public func run() async throws { try await runWorker() }
}
