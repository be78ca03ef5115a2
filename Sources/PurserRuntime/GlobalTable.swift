import Logging
import PurserKafka
import ServiceLifecycle
import Synchronization

/// The latest value per key of a compacted topic (e.g. `purser.customers.v1`), kept in memory by every
/// instance that needs it.
///
/// The table reads every partition of the topic from the beginning, without a consumer group, and keeps
/// following it while it runs; a record whose value decodes to `nil` (a tombstone) removes its key.
///
/// Freshness: ``value(forKey:)`` waits until the table has read every partition up to the end it had when
/// the table started, so no decision is made on a table that is still loading. After that the table lags
/// the topic by the time a record takes to be fetched (typically milliseconds); ``catchUp()`` waits until
/// it has read everything published before the call, for a caller that must see a change made just before.
public final class GlobalTable<Value: Sendable>: Service, ReadinessReporting, Sendable {
    /// Turns a record into a key and its new value (`nil` deletes the key); returning `nil` skips the record.
    public typealias Decode = @Sendable (InputRecord) throws -> (key: String, value: Value?)?

    /// How long to wait for a record before asking the consumer how far it got (the last offsets of a
    /// partition may be transaction markers, which are never delivered).
    static var idleCheck: Duration { .milliseconds(200) }

    /// How long ``value(forKey:)`` waits for the initial load before failing with a transient error.
    public static var loadTimeout: Duration { .seconds(60) }

    let topic: String
    let configuration: PurserConfiguration
    let logger: Logger
    let decode: Decode
    private let state = Mutex(TableState<Value>())
    private let hasRun = Atomic(false)
    /// Set by ``run()``; ``catchUp()`` asks it for the partitions' ends.
    private let admin = Mutex<KafkaAdmin?>(nil)

    /// - Parameters:
    ///   - topic: Full topic name (with `TOPIC_PREFIX`).
    ///   - configuration: Where Kafka is.
    ///   - decode: Maps a record to a key and value. A record it throws on is logged and skipped, since a
    ///     table has no dead-letter topic.
    public init(topic: String, configuration: PurserConfiguration, logger: Logger, decode: @escaping Decode) {
        self.topic = topic
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: LoggingKeys.topic] = .string(topic)
        self.logger = logger
        self.decode = decode
    }

    /// `true` once the table has loaded the topic up to the end it had at start.
    public var isReady: Bool { state.withLock { $0.isLoaded } }

    /// The number of keys held.
    public var count: Int { state.withLock { $0.values.count } }

    /// Loads the topic, then follows it until graceful shutdown.
    public func run() async throws {
        precondition(!hasRun.exchange(true, ordering: .relaxed), "GlobalTable.run() may be called only once")
        guard let servers = configuration.brokers.bootstrapServers else { throw EmbeddedBrokerNotStartedError() }
        let admin = try KafkaAdmin.make(configuration, servers: servers, logger: logger)
        var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: servers, groupID: nil)
        consumerConfiguration.client.additionalProperties = configuration.kafkaProperties
        consumerConfiguration.fetchMaxWait = configuration.fetchMaxWait
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger)
        self.admin.withLock { $0 = admin }
        // Release the admin client when the table stops, so it does not keep reconnecting to a broker gone.
        defer { self.admin.withLock { $0 = nil } }
        do {
            try await follow(with: consumer, admin: admin)
            await consumer.shutdown()
            resume(state.withLock { $0.fail(CancellationError()) })
        } catch {
            await consumer.shutdown()
            resume(state.withLock { $0.fail(error) })
            throw error
        }
    }

    private func follow(with consumer: KafkaConsumer, admin: KafkaAdmin) async throws {
        guard let count = try await admin.listTopics()[topic] else {
            throw KafkaError(code: .unknownTopic, message: "no topic \(topic)")
        }
        let partitions = (0..<Int32(count)).map { TopicPartition(topic, $0) }
        let ends = try await highWatermarks(partitions, admin)
        resume(state.withLock { $0.startLoading(until: ends) })
        try consumer.assign(partitions.map { TopicPartitionOffset($0, offset: TopicPartitionOffset.beginning) })
        logger.info("Loading table", metadata: ["purser.partitions": .stringConvertible(partitions.count)])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let record = try await consumer.nextRecord(within: Self.idleCheck) {
                apply(InputRecord(record))
            } else {
                let positions = try await consumer.position(partitions).map { ($0.topicPartition.partition, $0.offset) }
                resume(state.withLock { $0.advance(to: positions) })
            }
        }
    }

    private func apply(_ record: InputRecord) {
        var update: (key: String, value: Value?)?
        do {
            update = try decode(record)
        } catch {
            logger.warning(
                "Skipping a table record that cannot be decoded",
                metadata: [LoggingKeys.offset: .stringConvertible(record.offset), "purser.error": .string("\(error)")]
            )
        }
        resume(state.withLock { $0.apply(update, partition: record.partition, offset: record.offset) })
    }

    /// The latest value for `key`, once the table has loaded; `nil` when the key has none.
    ///
    /// - Throws: A transient error when the table is not loaded within ``loadTimeout`` (the record asking
    ///   is then retried), or the error that stopped the table.
    public func value(forKey key: String) async throws -> Value? {
        try await wait(until: { $0.isLoaded })
        return state.withLock { $0.values[key] }
    }

    /// Waits until the table has read every record published before this call.
    public func catchUp() async throws {
        try await wait(until: { $0.isLoaded })
        let partitions = state.withLock { Array($0.positions.keys) }
        guard let admin = admin.withLock({ $0 }) else { throw CancellationError() }
        let ends = try await highWatermarks(partitions.map { TopicPartition(topic, $0) }, admin)
        try await wait(until: { $0.hasReached(ends) })
    }

    private func wait(until condition: @escaping @Sendable (TableState<Value>) -> Bool) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await Task.sleep(for: Self.loadTimeout)
                throw RetryLaterError("table \(self.topic) is not up to date yet")
            }
            group.addTask {
                try await self.waitForState(condition)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func waitForState(_ condition: @escaping @Sendable (TableState<Value>) -> Bool) async throws {
        let id = state.withLock { $0.makeWaiterID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let result = state.withLock { state -> Result<Void, any Error>? in
                    if let failure = state.failure { return .failure(failure) }
                    if condition(state) { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = (condition, continuation)
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    private func resume(_ wakeUps: [TableState<Value>.WakeUp]) {
        for wakeUp in wakeUps { wakeUp.continuation.resume(with: wakeUp.result) }
    }

    private func highWatermarks(_ partitions: [TopicPartition], _ admin: KafkaAdmin) async throws -> [Int32: Int64] {
        var ends: [Int32: Int64] = [:]
        for partition in partitions {
            ends[partition.partition] = try await admin.watermarks(partition).high
        }
        return ends
    }
}

/// The table's contents, how far it has read each partition, and who waits for it to get somewhere.
struct TableState<Value> {
    typealias Condition = @Sendable (TableState<Value>) -> Bool
    struct WakeUp {
        var continuation: CheckedContinuation<Void, any Error>
        var result: Result<Void, any Error>
    }

    var values: [String: Value] = [:]
    /// Per partition, the offset after the last record read.
    var positions: [Int32: Int64] = [:]
    var loadTarget: [Int32: Int64]?
    var isLoaded = false
    var failure: (any Error)?
    var waiters: [Int: (condition: Condition, continuation: CheckedContinuation<Void, any Error>)] = [:]
    private var lastWaiterID = 0

    mutating func makeWaiterID() -> Int {
        lastWaiterID += 1
        return lastWaiterID
    }

    func hasReached(_ target: [Int32: Int64]) -> Bool {
        target.allSatisfy { positions[$0.key, default: 0] >= $0.value }
    }

    mutating func startLoading(until ends: [Int32: Int64]) -> [WakeUp] {
        loadTarget = ends
        for partition in ends.keys where positions[partition] == nil { positions[partition] = 0 }
        return checkProgress()
    }

    mutating func apply(_ update: (key: String, value: Value?)?, partition: Int32, offset: Int64) -> [WakeUp] {
        if let update { values[update.key] = update.value }
        positions[partition] = max(positions[partition, default: 0], offset + 1)
        return checkProgress()
    }

    /// Moves positions forward to what the consumer reports (past transaction markers, for instance).
    mutating func advance(to reported: [(partition: Int32, offset: Int64)]) -> [WakeUp] {
        for (partition, offset) in reported where offset >= 0 {
            positions[partition] = max(positions[partition, default: 0], offset)
        }
        return checkProgress()
    }

    mutating func fail(_ error: any Error) -> [WakeUp] {
        failure = failure ?? error
        let wakeUps = waiters.values.map { WakeUp(continuation: $0.continuation, result: .failure(error)) }
        waiters = [:]
        return wakeUps
    }

    private mutating func checkProgress() -> [WakeUp] {
        if !isLoaded, let loadTarget, hasReached(loadTarget) { isLoaded = true }
        let satisfied = waiters.filter { $0.value.condition(self) }
        for id in satisfied.keys { waiters[id] = nil }
        return satisfied.values.map { WakeUp(continuation: $0.continuation, result: .success(())) }
    }
}
