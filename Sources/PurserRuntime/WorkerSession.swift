import Dispatch
import Foundation
import Logging
import PurserKafka
import ServiceLifecycle
import Synchronization

/// One membership of a worker in its consumer group: a consumer, a producer and the records in flight.
///
/// A session ends at graceful shutdown (after draining and committing) or with an error; the
/// ``WorkerService`` then starts a new one, re-joining the group from the committed offsets.
final class WorkerSession: Sendable {
    let worker: any Worker
    let configuration: PurserConfiguration
    let logger: Logger
    let metrics: WorkerMetrics
    let deadLetterTopic: String
    let reader: KafkaPartitionReader
    let state: ProcessingState
    let producer: KafkaProducer
    /// Present with `PROCESSING_GUARANTEE=exactly_once`: outputs and offsets commit in transactions.
    let transactions: TransactionGate?
    /// Set once, right after the consumer is created (the consumer needs this session's rebalance hooks).
    private let consumerBox = Mutex<KafkaConsumer?>(nil)
    /// Held while pausing or resuming intake, so calls made out of order still end with the latest wish.
    private let intakeGate = Mutex(())
    private let failure = Mutex<(any Error)?>(nil)
    private let starts: AsyncStream<InputRecord>
    private let startsContinuation: AsyncStream<InputRecord>.Continuation

    /// How long a worker's partition hooks may take.
    static let hookTimeout = Duration.seconds(240)

    init(
        worker: any Worker,
        configuration: PurserConfiguration,
        bootstrapServers: [String],
        logger: Logger,
        metrics: WorkerMetrics,
        deadLetterTopic: String,
        transactionalID: String
    ) throws {
        self.worker = worker
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.deadLetterTopic = deadLetterTopic
        self.reader = KafkaPartitionReader(admin: try KafkaAdmin.make(configuration, servers: bootstrapServers, logger: logger))
        self.state = ProcessingState(maxInFlight: configuration.maxInFlight)
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
        producerConfiguration.client.clientID = "purser-\(worker.name)"
        producerConfiguration.client.additionalProperties = configuration.kafkaProperties
        if configuration.processingGuarantee == .exactlyOnce {
            producerConfiguration.transactionalID = transactionalID
            transactions = TransactionGate()
        } else {
            transactions = nil
        }
        self.producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        (starts, startsContinuation) = AsyncStream.makeStream()
    }

    /// Joins the group and processes records until graceful shutdown or a failure.
    ///
    /// - Throws: The failure that ended the session; nothing after a graceful shutdown.
    func run(bootstrapServers: [String], onJoined: @Sendable () -> Void) async throws {
        var consumerConfiguration = KafkaConsumerConfiguration(
            bootstrapServers: bootstrapServers,
            groupID: worker.groupID
        )
        consumerConfiguration.client.clientID = "purser-\(worker.name)"
        consumerConfiguration.client.additionalProperties = configuration.kafkaProperties
        consumerConfiguration.fetchMaxWait = configuration.fetchMaxWait
        if transactions != nil {
            // Offsets go through transactions only.
            consumerConfiguration.isAutoCommitEnabled = false
            consumerConfiguration.commitsOnRevoke = false
        }
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration,
            logger: logger,
            rebalance: KafkaConsumer.RebalanceHandler(
                onAssigned: { [self] in assigned($0) },
                onRevoked: { [self] in revoked($0, isLost: $1) }
            )
        )
        consumerBox.withLock { $0 = consumer }
        if transactions != nil {
            try await producer.initTransactions()
            try producer.beginTransaction()
        }
        try consumer.subscribe(topics: worker.inputTopics)
        onJoined()
        logger.info("Worker started", metadata: ["purser.topics": .string(worker.inputTopics.joined(separator: ","))])

        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.intake(from: consumer) }
            group.addTask { await self.commitPeriodically(consumer) }
            for await record in starts {
                group.addTask { await self.process(record) }
            }
            group.cancelAll()
        }
        if failure.withLock({ $0 }) == nil {
            await commit(consumer)
        }
        await consumer.shutdown()
        // The consumer's rebalance hooks hold this session: let both go, and with them the admin client,
        // which would otherwise keep reconnecting (and logging) for the life of the process.
        consumerBox.withLock { $0 = nil }
        await producer.shutdown()
        if let failure = failure.withLock({ $0 }) { throw failure }
        logger.info("Worker stopped")
    }

    // MARK: - Intake and processing

    private func intake(from consumer: KafkaConsumer) async throws {
        defer { startsContinuation.finish() }
        do {
            for try await record in consumer.records.cancelOnGracefulShutdown() {
                // A record handed out before its partition was revoked (and perhaps assigned back) is dropped: the
                // partition's records come again from its committed offset.
                apply(state.receive(InputRecord(record)) { consumer.isCurrent(record) })
                metrics.inFlight.record(state.held)
            }
            if !Task.isShuttingDownGracefully {
                // The consumer closed without being asked to: end this membership and re-join.
                fail(ConsumerClosedError())
            }
        } catch {
            fail(error)
        }
        logger.debug("Intake ended", metadata: ["purser.cancelled": .stringConvertible(Task.isCancelled)])
        // Stop: drop what has not started, let running records finish (for a while), then end the record
        // stream, after which the remaining records are cancelled.
        let partitions = state.assignedPartitions
        apply(state.beginRevoke(partitions))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.state.drained(partitions) }
            group.addTask { try? await Task.sleep(for: self.configuration.shutdownDrainTimeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func process(_ record: InputRecord) async {
        let processor = RecordProcessor(
            worker: worker,
            retry: configuration.retry,
            clock: RevocableClock(base: ContinuousClock(), partition: record.topicPartition, state: state),
            deadLetterTopic: deadLetterTopic,
            metrics: metrics,
            logger: logger,
            partitions: reader
        )
        let outcome = await processor.process(record)
        // With transactions, a record is settled inside its send so a commit covers its outputs. Its outputs are
        // then only handed to the producer: the commit waits for every record of the transaction and fails
        // (then aborts and re-joins) if any was not delivered, so awaiting each delivery report adds nothing.
        let settle = {
            // Checked inside the transaction's send gate: a record its partition's revoke gave up on while it
            // waited there does not slip its outputs into the next transaction.
            let published = self.state.isCurrent(record) ? await self.publish(outcome, of: record) : false
            self.apply(self.state.settle(record, finished: published))
        }
        if let transactions {
            await transactions.withSend(settle)
        } else {
            await settle()
        }
        metrics.inFlight.record(state.held)
    }

    /// Publishes a record's outputs (or its dead letter), retrying retriable Kafka errors.
    ///
    /// - Returns: `true` when everything is acknowledged, so the record may be committed.
    private func publish(_ outcome: RecordProcessor<RevocableClock<ContinuousClock>>.Outcome, of record: InputRecord) async -> Bool {
        guard outcome != .abandoned else { return false }
        if outcome.isDeadLetter { worker.recordDeadLettered(record) }
        do {
            try await send(outcome.records, partition: record.topicPartition)
            return true
        } catch let failure as RetryFailure where mustNotResend(failure.underlying) {
            // Sending it again could write it twice, and dead-lettering it would let a redrive do the same. The
            // record stays uncommitted and the session re-joins: the partition's next owner rebuilds its state
            // from what the output topics hold, and finds the output if it was written.
            fail(OutputMayHaveBeenWrittenError(underlying: failure.underlying))
            return false
        } catch let failure as RetryFailure where !(outcome.isDeadLetter) {
            // The outputs cannot be written (e.g. too large): the record goes to the dead-letter topic.
            let deadLetter = DeadLetter(
                original: record,
                worker: worker.name,
                error: "publishing outputs failed: \(failure.underlying)",
                reason: failure.reason,
                attempts: failure.attempts,
                time: Date()
            )
            metrics.deadLettered.increment()
            return await publish(.deadLettered(deadLetter.record(topic: deadLetterTopic)), of: record)
        } catch is RetryFailure {
            fail(KafkaPublishError(topic: deadLetterTopic))
            return false
        } catch {
            return false
        }
    }

    private func send(_ records: [OutputRecord], partition: TopicPartition) async throws {
        for output in records {
            _ = try await configuration.retry.run(
                clock: RevocableClock(base: ContinuousClock(), partition: partition, state: state),
                isTransient: { error in (error as? KafkaError)?.isRetriable == true && !mustNotResend(error) },
                willRetry: { [logger] _, error, _ in
                    logger.warning("Retrying a publish", metadata: ["purser.error": .string("\(error)")])
                }
            ) { _ in
                if transactions == nil {
                    _ = try await producer.send(ProducerRecord(output))
                } else {
                    try await producer.enqueue(ProducerRecord(output))
                }
            }
        }
    }

    /// Whether a failed send must not be repeated: it may have written its record all the same (librdkafka gave up
    /// waiting for an answer to a request the broker may have stored), and this worker's outputs must appear once.
    private func mustNotResend(_ error: any Error) -> Bool {
        guard !worker.resendsPossiblyWrittenOutputs, let persistence = (error as? KafkaError)?.persistence else { return false }
        return persistence != .notPersisted
    }

    /// Carries out the scheduler's actions: start records, pause or resume intake.
    private func apply(_ actions: KeyOrderedScheduler.Actions) {
        for record in actions.start {
            startsContinuation.yield(record)
        }
        if actions.pauseIntake != nil { syncIntake() }
    }

    /// Pauses or resumes every assigned partition as the scheduler wants it now. It reads the wish itself, under
    /// ``intakeGate``, rather than taking the one that asked for the call: two calls racing each other then still
    /// end with the latest. Every assigned partition is set, because librdkafka keeps a partition's pause after
    /// it is revoked and assigned again.
    private func syncIntake() {
        guard let consumer = consumerBox.withLock({ $0 }) else { return }
        intakeGate.withLock { _ in
            let pause = state.isIntakePaused
            do {
                if pause { try consumer.pause(state.assignedPartitions) } else { try consumer.resume(state.assignedPartitions) }
                logger.debug(pause ? "Paused intake" : "Resumed intake")
            } catch {
                logger.warning("Could not pause or resume intake", metadata: ["purser.error": .string("\(error)")])
            }
        }
    }

    // MARK: - Commits

    private func commitPeriodically(_ consumer: KafkaConsumer) async {
        var lastLagUpdate = ContinuousClock.now
        while (try? await Task.sleep(for: configuration.commitInterval)) != nil {
            await commit(consumer)
            if ContinuousClock.now - lastLagUpdate >= Self.lagInterval {
                lastLagUpdate = .now
                await updateLag(consumer)
            }
        }
    }

    /// How often the lag metric is refreshed (it asks the broker for every partition's end).
    static let lagInterval = Duration.seconds(5)

    /// Lag: records of the assigned partitions not yet finished (end of the partition minus the first
    /// unfinished offset), summed.
    private func updateLag(_ consumer: KafkaConsumer) async {
        var lag: Int64 = 0
        for (partition, offset) in state.positions {
            guard let high = try? await consumer.watermarks(partition, timeout: .seconds(2)).high else { return }
            lag += max(0, high - offset)
        }
        metrics.lag.record(lag)
    }

    /// Makes finished records durable, and forgets `revoked` partitions with their final offsets (none when
    /// `isLost`: another member may own them already).
    ///
    /// At-least-once: their offsets are stored, and the consumer commits them in the background, on revoke
    /// and on close. Exactly-once: the open transaction is committed with their offsets and a new one begun.
    /// Revoked partitions are forgotten inside the transaction's gate: a send already in it settles first and
    /// its offset is committed with its outputs; a record that reaches the gate later finds itself stale and
    /// publishes nothing.
    private func commit(_ consumer: KafkaConsumer, revoking revoked: [TopicPartition] = [], isLost: Bool = false) async {
        let offsets = {
            let final = self.state.completeRevoke(revoked)
            return self.state.committableOffsets.merging(isLost ? [:] : final) { $1 }
        }
        guard let transactions else {
            storeOffsets(offsets(), consumer)
            return
        }
        await transactions.withCommit {
            let offsets = offsets()
            do {
                if !offsets.isEmpty {
                    try await producer.sendOffsetsToTransaction(
                        offsets.map { TopicPartitionOffset($0.key, offset: $0.value) },
                        of: consumer
                    )
                }
                try await producer.commitTransaction()
                state.markCommitted(offsets)
                try producer.beginTransaction()
            } catch {
                // Abortable or fatal (e.g. fenced): drop the transaction and re-join from the committed
                // offsets, so nothing uncommitted is skipped and nothing crashes in a loop.
                try? await producer.abortTransaction()
                fail(error)
            }
        }
    }

    private func storeOffsets(_ offsets: [TopicPartition: Int64], _ consumer: KafkaConsumer) {
        guard !offsets.isEmpty else { return }
        do {
            _ = try consumer.storeOffsets(offsets.map { TopicPartitionOffset($0.key, offset: $0.value) })
            state.markCommitted(offsets)
        } catch {
            logger.warning("Could not store offsets", metadata: ["purser.error": .string("\(error)")])
        }
    }

    // MARK: - Rebalances (called on the consumer's poll thread)

    private func assigned(_ partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        logger.info("Partitions assigned", metadata: ["purser.partitions": .string("\(partitions)")])
        let context = WorkerContext(logger: logger, partitions: reader)
        let worker = worker
        let result = Self.blocking(timeout: Self.hookTimeout) {
            try await worker.partitionsAssigned(partitions, context: context)
        }
        if case .failure(let error) = result {
            // Processing without the worker's state could break its guarantees: leave and re-join.
            fail(error)
            return
        }
        state.assign(partitions)
        syncIntake()
    }

    private func revoked(_ partitions: [TopicPartition], isLost: Bool) {
        guard !partitions.isEmpty else { return }
        logger.info(
            "Partitions revoked",
            metadata: ["purser.partitions": .string("\(partitions)"), "purser.lost": .stringConvertible(isLost)]
        )
        apply(state.beginRevoke(partitions))
        if !state.waitUntilDrained(partitions, timeout: configuration.revokeDrainTimeout) {
            logger.warning("Revoking partitions with records still running; they will be processed again")
        }
        if let consumer = consumerBox.withLock({ $0 }) {
            _ = Self.blocking(timeout: Self.hookTimeout) { await self.commit(consumer, revoking: partitions, isLost: isLost) }
        }
        // Already done by the commit, unless there was none or it did not end in time.
        _ = state.completeRevoke(partitions)
        let worker = worker
        _ = Self.blocking(timeout: Self.hookTimeout) { await worker.partitionsRevoked(partitions) }
    }

    /// Ends the session with `error` (the first one wins): the consumer closes, which ends intake.
    private func fail(_ error: any Error) {
        let isFirst = failure.withLock { failure in
            guard failure == nil else { return false }
            failure = error
            return true
        }
        guard isFirst else { return }
        logger.error("Worker session failed", metadata: ["purser.error": .string("\(error)")])
        // Start nothing more: a record of the same key as one given up on would otherwise overtake it, since
        // the consumer closes (and revokes) only later.
        apply(state.beginRevoke(state.assignedPartitions))
        if let consumer = consumerBox.withLock({ $0 }) {
            Task { await consumer.shutdown() }
        }
    }

    /// Runs async work from a librdkafka callback thread and waits for it, at most `timeout`.
    private static func blocking<T: Sendable>(
        timeout: Duration,
        _ operation: @escaping @Sendable () async throws -> T
    ) -> Result<T, any Error> {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = Task {
            let value = await Result(catching: { try await operation() })
            result.withLock { $0 = value }
            done.signal()
        }
        if done.wait(timeout: .now() + .milliseconds(Int(timeout.components.seconds * 1000))) == .timedOut {
            task.cancel()
            return .failure(CancellationError())
        }
        return result.withLock { $0! }
    }
}

struct ConsumerClosedError: Error, CustomStringConvertible {
    var description: String { "the Kafka consumer stopped delivering records" }
}

struct OutputMayHaveBeenWrittenError: Error, CustomStringConvertible {
    var underlying: any Error
    var description: String { "an output may have been written without being acknowledged (\(underlying)): re-joining to read it back" }
}

struct KafkaPublishError: Error, CustomStringConvertible {
    var topic: String
    var description: String { "cannot publish to \(topic)" }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
