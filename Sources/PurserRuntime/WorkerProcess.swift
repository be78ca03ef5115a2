import Logging
import Prometheus
import ServiceLifecycle

/// Everything a process that runs workers needs: the workers, the tables they read, and the
/// `/metrics` + `/health/*` server on `METRICS_PORT`, with the workers' metrics in one registry.
///
/// A worker executable's `main` is then: read ``PurserConfiguration``, build its workers and tables,
/// `try await WorkerProcess(configuration: configuration, logger: logger).run(workers:tables:)`.
public struct WorkerProcess: Sendable {
    public var configuration: PurserConfiguration
    public var logger: Logger
    /// Where the workers' metrics are collected and `/metrics` reads them.
    public let registry: PrometheusCollectorRegistry
    /// Address the health server binds. Default: every interface.
    public var host = "0.0.0.0"
    /// Longest graceful shutdown before the remaining work is cancelled; keep it under the pod's grace
    /// period. Default: 25 s.
    public var maximumGracefulShutdownDuration = Duration.seconds(25)

    public init(configuration: PurserConfiguration, logger: Logger, registry: PrometheusCollectorRegistry = .init()) {
        self.configuration = configuration
        self.logger = logger
        self.registry = registry
    }

    /// The services in start order: tables (workers read them), workers, then the health server.
    /// A `ServiceGroup` stops them in reverse: the health server first, then the workers drain and
    /// commit, then the tables.
    ///
    /// - Parameter onHealthServerRunning: Called with the health server's port once it listens.
    public func services(
        workers: [any Worker],
        tables: [any Service & ReadinessReporting] = [],
        onHealthServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) -> [any Service] {
        let factory = PrometheusMetricsFactory(registry: registry)
        let workerServices = workers.map {
            WorkerService(worker: $0, configuration: configuration, logger: logger, metricsFactory: factory)
        }
        let health = HealthServer(
            host: host,
            port: configuration.metricsPort,
            registry: registry,
            components: tables + workerServices,
            logger: logger,
            onServerRunning: onHealthServerRunning
        )
        return tables + workerServices + [health]
    }

    /// Runs ``services(workers:tables:onHealthServerRunning:)`` until SIGTERM or SIGINT, then shuts down
    /// gracefully.
    public func run(workers: [any Worker], tables: [any Service & ReadinessReporting] = []) async throws {
        var group = ServiceGroupConfiguration(
            services: services(workers: workers, tables: tables).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        group.maximumGracefulShutdownDuration = maximumGracefulShutdownDuration
        try await ServiceGroup(configuration: group).run()
    }
}
