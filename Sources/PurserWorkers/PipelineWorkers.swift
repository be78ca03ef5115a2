import Calypso
import Logging
import PurserRuntime
import PurserSchema
import ServiceLifecycle

/// The pipeline's four workers and the customer table two of them read, built from one configuration.
///
/// Each worker executable runs one role; `purser run` runs them all in one process:
///
/// ```swift
/// let pipeline = PipelineWorkers(configuration: configuration, calypso: client, logger: logger)
/// let services = try pipeline.services(process: WorkerProcess(configuration: configuration, logger: logger))
/// ```
public struct PipelineWorkers: Sendable {
    /// One worker of the pipeline; the raw value is the worker's name.
    public enum Role: String, CaseIterable, Sendable {
        case transactionFetcher = "transaction-fetcher"
        case customerPolicy = "customer-policy"
        case purseRenewer = "purse-renewer"
        case depositCrediter = "deposit-crediter"

        /// Whether the role calls Calypso's API.
        public var callsCalypso: Bool { self == .transactionFetcher || self == .purseRenewer }
        /// Whether the role reads the customer table.
        public var readsCustomers: Bool { self == .customerPolicy || self == .purseRenewer }
    }

    public let configuration: PurserConfiguration
    /// Shared by the roles that read it; run it (it is among ``services(_:process:)``) before them.
    public let customers: CustomerTable
    let calypso: CalypsoClient?

    /// - Parameters:
    ///   - configuration: Brokers, topic prefix, `CREDIT_ON`, and the merchant account (`CALYPSO_ACCOUNT_ID`).
    ///   - calypso: The API client, needed by the fetcher and the renewer only.
    public init(configuration: PurserConfiguration, calypso: CalypsoClient?, logger: Logger) {
        self.configuration = configuration
        self.calypso = calypso
        customers = .customers(configuration: configuration, logger: logger)
    }

    /// The workers of `roles`.
    ///
    /// - Throws: ``ConfigurationError`` naming what a role needs and lacks: `CALYPSO_ACCOUNT_ID` for the
    ///   policy and the crediter, the Calypso API settings for the fetcher and the renewer.
    public func workers(_ roles: [Role] = Role.allCases) throws(ConfigurationError) -> [any Worker] {
        let topics = configuration.topics
        var workers: [any Worker] = []
        for role in roles {
            switch role {
            case .transactionFetcher:
                workers.append(TransactionFetcher(topics: topics, calypso: try requireCalypso()))
            case .customerPolicy:
                workers.append(
                    CustomerPolicy(
                        topics: topics,
                        creditOn: configuration.creditOn,
                        account: try requireAccount(),
                        customers: customers
                    )
                )
            case .purseRenewer:
                workers.append(PurseRenewer(topics: topics, calypso: try requireCalypso(), customers: customers))
            case .depositCrediter:
                workers.append(DepositCrediter(topics: topics, account: try requireAccount()))
            }
        }
        return workers
    }

    /// The services of `roles` for a `ServiceGroup`, in start order: the customer table (when a role reads
    /// it), the workers, then `process`'s health and metrics server.
    public func services(_ roles: [Role] = Role.allCases, process: WorkerProcess) throws(ConfigurationError)
        -> [any Service]
    {
        let tables: [any Service & ReadinessReporting] = roles.contains(where: \.readsCustomers) ? [customers] : []
        return process.services(workers: try workers(roles), tables: tables)
    }

    private func requireAccount() throws(ConfigurationError) -> String {
        guard let account = configuration.calypso.accountID, !account.isEmpty else {
            throw ConfigurationError(.missing, variable: "CALYPSO_ACCOUNT_ID", reason: "names the merchant account in every deposit event; not set")
        }
        return account
    }

    private func requireCalypso() throws(ConfigurationError) -> CalypsoClient {
        guard let calypso else {
            throw ConfigurationError(.missing, variable: "CALYPSO_API_URL", reason: "is required to call Calypso but not set")
        }
        return calypso
    }
}

extension CalypsoSettings {
    /// A client for these settings.
    ///
    /// - Parameter maximumConnections: Connections kept to Calypso; give a worker process its
    ///   `WORKER_MAX_IN_FLIGHT`, or calls queue for a connection and the bound on records in flight is
    ///   never reached (8 connections at 50 ms a call cap a worker at 160 records/s).
    /// - Throws: ``ConfigurationError`` naming the first missing variable (`CALYPSO_API_URL`,
    ///   `CALYPSO_ACCOUNT_ID`, `CALYPSO_API_KEY`, `CALYPSO_API_SECRET`).
    public func makeClient(maximumConnections: Int, logger: Logger) throws(ConfigurationError) -> CalypsoClient {
        guard let apiURL else {
            throw ConfigurationError(.missing, variable: "CALYPSO_API_URL", reason: "is required to call Calypso but not set")
        }
        let (account, key, secret) = try requireCredentials()
        var configuration = CalypsoClient.Configuration(
            baseURL: apiURL,
            account: account,
            credentials: CalypsoKeyPair(key: key.value, secret: secret.value)
        )
        configuration.maximumConnections = maximumConnections
        return CalypsoClient(configuration: configuration, logger: logger)
    }
}
