import Crdkafka

/// Transactions, for a producer configured with ``KafkaProducerConfiguration/transactionalID``.
///
/// Errors tell what to do next: ``KafkaError/isRetriable`` → call again; ``KafkaError/isTxnRequiresAbort``
/// → ``abortTransaction(timeout:)``, rewind the consumer to its committed offsets, begin again;
/// ``KafkaError/isFatal`` (``KafkaError/isFenced`` among them) → shut down and create new clients.
///
/// ```swift
/// try await producer.initTransactions()
/// try producer.beginTransaction()
/// _ = try await producer.send(output)
/// try await producer.sendOffsetsToTransaction([input.nextOffset], of: consumer)
/// try await producer.commitTransaction()
/// ```
extension KafkaProducer {
    /// Registers the `transactional.id` with the coordinator (fencing older producers with it) and
    /// completes or aborts what a previous instance left open. Call once, before the first transaction.
    public func initTransactions(timeout: Duration = .seconds(30)) async throws {
        try await transactionCall("init transactions") { rd_kafka_init_transactions($0, Int32(clamping: timeout.milliseconds)) }
    }

    /// Starts a transaction: every record sent until commit or abort belongs to it.
    public func beginTransaction() throws(KafkaError) {
        if let error = KafkaError.consuming(rd_kafka_begin_transaction(client.handle), "begin transaction") { throw error }
    }

    /// Makes committing these consumer positions (next offsets to read) part of the transaction, using
    /// `consumer`'s group metadata so a rebalanced-away member cannot commit.
    public func sendOffsetsToTransaction(
        _ offsets: [TopicPartitionOffset],
        of consumer: KafkaConsumer,
        timeout: Duration = .seconds(30)
    ) async throws {
        guard let metadata = rd_kafka_consumer_group_metadata(consumer.client.handle) else {
            throw KafkaError(code: .invalidArgument, message: "the consumer has no group", isRetriable: false)
        }
        let sendableMetadata = SendablePointer(metadata)
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        try await transactionCall("send offsets to transaction") { handle in
            PartitionList.with(offsets) { list in
                rd_kafka_send_offsets_to_transaction(handle, list, sendableMetadata.pointer, Int32(clamping: timeout.milliseconds))
            }
        }
    }

    /// Commits the transaction: its records become visible and its offsets committed, together.
    public func commitTransaction(timeout: Duration = .seconds(30)) async throws {
        try await transactionCall("commit transaction") { rd_kafka_commit_transaction($0, Int32(clamping: timeout.milliseconds)) }
    }

    /// Aborts the transaction: its records are marked aborted and its offsets dropped.
    public func abortTransaction(timeout: Duration = .seconds(30)) async throws {
        try await transactionCall("abort transaction") { rd_kafka_abort_transaction($0, Int32(clamping: timeout.milliseconds)) }
    }

    /// Runs a blocking transactional call off the cooperative pool, classifying its error.
    private func transactionCall(_ name: String, _ call: @escaping @Sendable (OpaquePointer) -> OpaquePointer?) async throws {
        let client = client
        try await runBlocking {
            if let error = KafkaError.consuming(call(client.handle), name) { throw error }
        }
    }
}

/// A C pointer handed to a blocking call on another thread while its owner waits for that call.
struct SendablePointer: @unchecked Sendable {
    // @unchecked: the owner keeps the pointee alive and untouched until the call returns.
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}
