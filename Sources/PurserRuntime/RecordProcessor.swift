import Foundation
import Logging

/// Runs a worker's rule on one record with retries, and turns a failure into a dead letter.
///
/// Kafka-free, so the retry and dead-letter behaviour can be tested alone; the ``WorkerService``
/// publishes what it returns.
struct RecordProcessor<C: Clock<Duration>>: Sendable {
    /// What became of a record.
    enum Outcome: Sendable, Equatable {
        /// The worker's outputs (possibly none).
        case processed([OutputRecord])
        /// The record could not be processed; publish this dead letter in its place.
        case deadLettered(OutputRecord)
        /// Processing stopped without a result (revoke or shutdown); the record must not be committed.
        case abandoned

        var isDeadLetter: Bool {
            if case .deadLettered = self { return true }
            return false
        }

        /// The records to publish before the input may be committed.
        var records: [OutputRecord] {
            switch self {
            case .processed(let outputs): outputs
            case .deadLettered(let deadLetter): [deadLetter]
            case .abandoned: []
            }
        }
    }

    let worker: any Worker
    let retry: RetryPolicy
    let clock: C
    let deadLetterTopic: String
    let metrics: WorkerMetrics
    let logger: Logger
    let partitions: any PartitionReader

    func process(_ record: InputRecord) async -> Outcome {
        var logger = logger
        // One assignment: a log handler may render its metadata on every change (swift-log's stream
        // handler does), and this runs for every record.
        logger.handler.metadata.merge(
            [
                LoggingKeys.topic: .string(record.topic),
                LoggingKeys.partition: .stringConvertible(record.partition),
                LoggingKeys.offset: .stringConvertible(record.offset),
            ],
            uniquingKeysWith: { $1 }
        )
        let started = ContinuousClock.now
        defer { metrics.latency.recordNanoseconds(Self.nanoseconds(ContinuousClock.now - started)) }
        do {
            let outputs = try await retry.run(
                clock: clock,
                isTransient: worker.isTransient,
                willRetry: { attempt, error, delay in
                    metrics.retried.increment()
                    logger.warning(
                        "Retrying record after a transient error",
                        metadata: [
                            LoggingKeys.attempt: .stringConvertible(attempt),
                            "purser.error": .string(String(describing: error)),
                            "purser.delay": .string(delay.formatted()),
                        ]
                    )
                }
            ) { attempt in
                try Task.checkCancellation()
                var context = WorkerContext(logger: logger, attempt: attempt, partitions: partitions)
                if attempt > 1 { context.logger[metadataKey: LoggingKeys.attempt] = .stringConvertible(attempt) }
                return try await worker.process(record, context: context)
            }
            metrics.processed.increment()
            logger.debug("Processed record", metadata: ["purser.outputs": .stringConvertible(outputs.count)])
            return .processed(outputs)
        } catch let failure as RetryFailure {
            metrics.deadLettered.increment()
            logger.error(
                "Dead-lettering record",
                metadata: [
                    "purser.error": .string(String(describing: failure.underlying)),
                    "purser.reason": .string(failure.reason.rawValue),
                    LoggingKeys.attempt: .stringConvertible(failure.attempts),
                ]
            )
            let deadLetter = DeadLetter(
                original: record,
                worker: worker.name,
                error: String(describing: failure.underlying),
                reason: failure.reason,
                attempts: failure.attempts,
                time: Date()
            )
            return .deadLettered(deadLetter.record(topic: deadLetterTopic))
        } catch {
            logger.debug("Abandoned record", metadata: ["purser.error": .string(String(describing: error))])
            return .abandoned
        }
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}
