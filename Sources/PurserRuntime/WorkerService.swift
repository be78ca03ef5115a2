import Logging
import Foundation
import Metrics
import PurserKafka
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
    let hasRun = Atomic<Bool>(false)
    /// Which instance of this worker in the process this is, counting from 0.
    let instance: Int

    private static let instanceCounts = Mutex<[String: Int]>([:])

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
        self.instance = Self.instanceCounts.withLock { counts in
            defer { counts[worker.name, default: 0] += 1 }
            return counts[worker.name, default: 0]
        }
    }

    /// `true` while the worker is a member of its group and consuming.
    public var isReady: Bool { ready.load(ordering: .relaxed) }

    /// The dead-letter topic: `<TOPIC_PREFIX>purser.dlq.<name>.v1`.
    public var deadLetterTopic: String { configuration.topics.deadLetter(worker: worker.name) }
}

extension WorkerService {
    /// Joins the group and processes records until graceful shutdown.
    ///
    /// A failed session (a fatal Kafka error such as fencing, a worker hook that failed, a dead letter
    /// that cannot be written) is closed without committing past unfinished records, and the worker
    /// re-joins after a backoff instead of exiting; only a configuration error ends `run()` with an error.
    public func run() async throws {
        precondition(!hasRun.exchange(true, ordering: .relaxed), "WorkerService.run() may be called only once")
        guard let servers = configuration.brokers.bootstrapServers else { throw EmbeddedBrokerNotStartedError() }
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let session = try WorkerSession(
                    worker: worker,
                    configuration: configuration,
                    bootstrapServers: servers,
                    logger: logger,
                    metrics: metrics,
                    deadLetterTopic: deadLetterTopic,
                    transactionalID: transactionalID
                )
                defer { ready.store(false, ordering: .relaxed) }
                try await session.run(bootstrapServers: servers) { ready.store(true, ordering: .relaxed) }
                return
            } catch let error as KafkaError where error.code == .invalidConfiguration {
                throw error
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                failures += 1
                let delay = Self.restartBackoff.delay(beforeRetry: failures)
                logger.error(
                    "Worker session ended with an error; re-joining",
                    metadata: ["purser.error": .string("\(error)"), "purser.delay": .string(delay.formatted())]
                )
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            }
        }
    }

    /// Unique among live instances (host, process, instance in the process): two live producers sharing
    /// an id would fence each other. Zombie instances are fenced by the consumer group generation sent
    /// with the offsets (brokers 2.5 and later), so the id need not survive a restart.
    var transactionalID: String {
        let process = ProcessInfo.processInfo
        return "purser-\(worker.name)-\(process.hostName)-\(process.processIdentifier)-\(instance)"
    }

    /// Backoff between sessions: 1 s doubling up to a minute.
    static var restartBackoff: RetryPolicy {
        var policy = RetryPolicy()
        policy.initialDelay = .seconds(1)
        policy.maxDelay = .seconds(60)
        return policy
    }
}

/// The embedded broker's address is only known once it runs; its starter must pass it on.
struct EmbeddedBrokerNotStartedError: Error, CustomStringConvertible {
    var description: String {
        "KAFKA_BROKERS is 'embedded' but no embedded broker address was given; start the broker first"
    }
}
