import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Runs one ``Worker``: consumes its input topics in group `purser-<name>`, processes records with
/// key-ordered concurrency, retries, dead-letters, publishes outputs and commits offsets.
///
/// Run it in the process's `ServiceGroup`; on graceful shutdown it stops taking records, lets running
/// ones finish, commits what finished, leaves the group and flushes its producer.
public final class WorkerService: Service, ReadinessReporting, Sendable {
    let worker: any Worker
    let configuration: PurserConfiguration
    let logger: Logger
    let metrics: WorkerMetrics
    let ready = Atomic<Bool>(false)

    /// - Parameters:
    ///   - worker: The business rule.
    ///   - configuration: Brokers, topic prefix, processing guarantee, in-flight bound, retry policy.
    ///   - logger: Receives lifecycle and per-record logs, tagged with the worker's name.
    ///   - metricsFactory: Where the worker's metrics go; by default the process's `MetricsSystem`.
    public init(
        worker: some Worker,
        configuration: PurserConfiguration,
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.worker = worker
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: LoggingKeys.worker] = .string(worker.name)
        self.logger = logger
        self.metrics = WorkerMetrics(worker: worker.name, factory: metricsFactory)
    }

    /// `true` while the worker is a member of its group and consuming.
    public var isReady: Bool { ready.load(ordering: .relaxed) }

    /// The dead-letter topic: `<TOPIC_PREFIX>purser.dlq.<name>.v1`.
    public var deadLetterTopic: String { "\(configuration.topicPrefix)purser.dlq.\(worker.name).v1" }
}

extension WorkerService {
    /// Joins the group and processes records until graceful shutdown.
    public func run() async throws {
        throw RuntimeNotWiredError()
    }
}
