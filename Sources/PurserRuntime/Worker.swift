/// A worker's business rule. The runtime owns everything else: consuming in a consumer group, ordering
/// by key, concurrency, retries, publishing outputs, committing offsets and dead-lettering.
///
/// A worker called `deposit-crediter` consumes in group `purser-deposit-crediter` and dead-letters to
/// `purser.dlq.deposit-crediter.v1` (both with `TOPIC_PREFIX` applied to the topic).
///
/// Records of one key reach ``process(_:context:)`` one at a time, in offset order; records of other keys
/// run concurrently, so an implementation must be safe to call concurrently (hence `Sendable`).
///
/// - Important: Delivery is at least once: after a crash, a rebalance or a replay a record may be
///   processed again. A worker must be idempotent by key (deterministic event ids, dedup state).
public protocol Worker: Sendable {
    /// The worker's name, e.g. `deposit-crediter`; it names the consumer group and the DLQ topic.
    var name: String { get }

    /// Full topic names (with `TOPIC_PREFIX`) this worker consumes.
    var inputTopics: [String] { get }

    /// Turns one input record into zero or more output records.
    ///
    /// - Throws: An error that is transient (see ``isTransient(_:)``) to have the record retried with
    ///   exponential backoff; any other error, or a transient one after the retry budget is spent,
    ///   sends the record to the dead-letter topic. A record that cannot be decoded should throw a
    ///   permanent error: it is dead-lettered and the partition keeps flowing.
    func process(_ record: InputRecord, context: WorkerContext) async throws -> [OutputRecord]

    /// Called when partitions are assigned to this instance, before any of their records is processed
    /// (e.g. to rebuild dedup state from a co-partitioned output topic with ``WorkerContext/partitions``).
    ///
    /// - Throws: Any error; the runtime then leaves the group and stops, because processing without the
    ///   state would break the worker's guarantees.
    func partitionsAssigned(_ partitions: [TopicPartition], context: WorkerContext) async throws

    /// Called when partitions are taken away, after their in-flight records have finished; drop
    /// per-partition state here.
    func partitionsRevoked(_ partitions: [TopicPartition]) async

    /// Called when the runtime dead-letters `record` instead of publishing its outputs: its processing
    /// failed for good, or its outputs could not be written. State the record changed in
    /// ``process(_:context:)`` (e.g. a dedup claim) must be undone here, or the record's redrive would
    /// find it and act as if the output existed.
    func recordDeadLettered(_ record: InputRecord)

    /// Whether the runtime may send an output again after a send that failed but may have written it (librdkafka
    /// gave up waiting for the broker's answer). `false` for a worker whose outputs must appear once and whose
    /// state is rebuilt from them in ``partitionsAssigned(_:context:)``: the runtime then leaves the record
    /// uncommitted and re-joins, so the state is rebuilt from what the output topic holds. Default: `true`.
    var resendsPossiblyWrittenOutputs: Bool { get }

    /// Whether `error` thrown by ``process(_:context:)`` is worth retrying.
    ///
    /// The default reads ``RetryClassifiedError/isTransient`` and treats every other error as permanent.
    /// Override it to classify errors of modules that do not know this protocol.
    func isTransient(_ error: any Error) -> Bool
}

extension Worker {
    public func partitionsAssigned(_ partitions: [TopicPartition], context: WorkerContext) async throws {}

    public func partitionsRevoked(_ partitions: [TopicPartition]) async {}

    public func recordDeadLettered(_ record: InputRecord) {}

    public var resendsPossiblyWrittenOutputs: Bool { true }

    public func isTransient(_ error: any Error) -> Bool {
        (error as? any RetryClassifiedError)?.isTransient ?? false
    }

    /// The consumer group of this worker: `purser-<name>`.
    public var groupID: String { "purser-\(name)" }
}
