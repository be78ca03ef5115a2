import PurserRuntime
import PurserSchema

extension DedupState.PartitionNotReady: RetryClassifiedError {
    /// The runtime loads a partition before handing out its records, so this is a passing state.
    public var isTransient: Bool { true }
}

extension DedupState {
    /// Rebuilds the window of every input partition in `partitions` from the same partition of the
    /// worker's own outputs: each output event's `data` member `keyMember` is a key already acted on.
    ///
    /// - Parameters:
    ///   - outputTopics: The worker's outputs that count as "done" (co-partitioned with the input).
    ///   - keyMember: The `data` member holding the dedup key, e.g. `transactionId`.
    func rebuild(
        _ partitions: [TopicPartition],
        from outputTopics: [String],
        keyMember: String,
        reader: any PartitionReader
    ) async throws {
        for input in partitions {
            try await load(partition: input.partition) { window in
                for topic in outputTopics {
                    try await reader.readFromBeginning(topic: topic, partition: input.partition) { record in
                        guard let value = record.value, let envelope = try? CloudEventEnvelope(recordValue: value),
                            let key = envelope.data?.objectValue?[keyMember]?.stringValue
                        else { return }
                        let time = record.timestampMilliseconds ?? envelope.time?.millisecondsSince1970 ?? 0
                        window.recordEmitted(key, atMilliseconds: time)
                    }
                }
            }
        }
    }

    /// Forgets the windows of revoked partitions.
    func drop(_ partitions: [TopicPartition]) {
        for partition in partitions { drop(partition: partition.partition) }
    }
}

/// A worker that acts once per key and remembers, per input partition, the keys it has acted on: the
/// `data` member ``dedupKeyMember`` of its own outputs in the same partition of ``dedupSources``.
protocol OncePerKeyWorker: Worker {
    var dedupState: DedupState { get }
    /// The output topics whose events count as "acted on", co-partitioned with the input.
    var dedupSources: [String] { get }
    var dedupKeyMember: String { get }
    /// The key `record` would claim, or `nil` when it claims none (e.g. it cannot be decoded).
    func dedupKey(of record: InputRecord) -> String?
}

extension OncePerKeyWorker {
    public func partitionsAssigned(_ partitions: [TopicPartition], context: WorkerContext) async throws {
        try await dedupState.rebuild(partitions, from: dedupSources, keyMember: dedupKeyMember, reader: context.partitions)
    }

    public func partitionsRevoked(_ partitions: [TopicPartition]) async {
        dedupState.drop(partitions)
    }

    /// A resend of an output that may be stored would emit it twice; a re-join rebuilds the claims from the output.
    public var resendsPossiblyWrittenOutputs: Bool { false }

    /// Releases the claim the dead-lettered record made, so its redrive (or any later record with
    /// the key) is not mistaken for a duplicate of an output that was never written.
    public func recordDeadLettered(_ record: InputRecord) {
        guard let key = dedupKey(of: record) else { return }
        dedupState.release(key, partition: record.partition, inputOffset: record.offset)
    }
}
