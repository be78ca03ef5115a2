import Logging
import ServiceLifecycle
import Synchronization

/// Publishes the spool to Kafka, in order per key, whenever it holds records, and acknowledges (frees) what
/// the broker acknowledged. While Kafka does not answer it retries the oldest record with a
/// growing pause. On graceful shutdown it stops after the record in hand and leaves the rest on disk.
public final class SpoolDrainer: Service, Sendable {
    private let spool: Spool
    private let publisher: WebhookPublisher
    private let logger: Logger
    private let batchSize: Int
    private let retryDelays: ClosedRange<Duration>
    private let wakeups: AsyncStream<Void>
    private let wakeupSignal: AsyncStream<Void>.Continuation
    private let isStopping = Atomic<Bool>(false)

    init(
        spool: Spool,
        publisher: WebhookPublisher,
        logger: Logger,
        batchSize: Int = 256,
        retryDelays: ClosedRange<Duration> = .milliseconds(100)...(.seconds(5))
    ) {
        self.spool = spool
        self.publisher = publisher
        self.logger = logger
        self.batchSize = batchSize
        self.retryDelays = retryDelays
        (wakeups, wakeupSignal) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        wakeupSignal.yield()
    }

    /// Asks the drainer to look at the spool (after an append).
    func wake() {
        wakeupSignal.yield()
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await drain()
        } onGracefulShutdown: {
            self.isStopping.store(true, ordering: .relaxed)
            self.wakeupSignal.finish()
        }
    }

    private func drain() async throws {
        var delay = retryDelays.lowerBound
        var wakeups = self.wakeups.makeAsyncIterator()
        while !isStopping.load(ordering: .relaxed), !Task.isCancelled {
            let batch = try await spool.nextBatch(limit: batchSize)
            if batch.isEmpty {
                guard await wakeups.next() != nil else { return }
                continue
            }
            let published = await publishInOrder(batch)
            if published > 0 {
                try await spool.acknowledge(through: batch[published - 1].end, count: published)
                publisher.metrics.drainedRecords.increment(by: Int64(published))
                logger.info("spooled webhooks published", metadata: ["purser.records": "\(published)"])
                delay = retryDelays.lowerBound
            }
            if published < batch.count {
                let pause = delay
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
                delay = min(delay * 2, retryDelays.upperBound)
            }
        }
    }

    /// Publishes the batch keeping spool order per Kafka key: the records of one key one after the
    /// other, different keys concurrently (the contract orders events per customer, and a key's
    /// records share a partition).
    /// - Returns: how many records from the start of the batch were acknowledged (or dropped as
    ///   unpublishable). Records of other keys acknowledged after that prefix stay in the spool and
    ///   are published again with the same event id on the next attempt.
    private func publishInOrder(_ batch: [SpooledRecord]) async -> Int {
        let prepared = batch.map { spooled -> PreparedWebhook? in
            do {
                return try publisher.prepared(spooled.record)
            } catch {
                // Verified and decoded once already; only a format change could get here.
                logger.error(
                    "spooled webhook cannot be made into an event; dropped",
                    metadata: [LoggingKeys.error: "\(error)"]
                )
                return nil
            }
        }
        let indexesByKey = Dictionary(grouping: prepared.indices.filter { prepared[$0] != nil }) {
            prepared[$0]!.record.key
        }
        let (published, failure) = await withTaskGroup(of: ([Int], (any Error)?).self) { group in
            for indexes in indexesByKey.values {
                group.addTask {
                    var published: [Int] = []
                    for index in indexes where !self.isStopping.load(ordering: .relaxed) {
                        do {
                            try await self.publisher.publish(prepared[index]!)
                        } catch {
                            return (published, error)
                        }
                        published.append(index)
                    }
                    return (published, nil)
                }
            }
            return await group.reduce(into: (Set<Int>(), (any Error)?.none)) { result, outcome in
                result.0.formUnion(outcome.0)
                result.1 = result.1 ?? outcome.1
            }
        }
        if let failure {
            logger.warning("spool drain paused: Kafka did not acknowledge", metadata: [LoggingKeys.error: "\(failure)"])
        }
        return prepared.indices.prefix { prepared[$0] == nil || published.contains($0) }.count
    }
}
