/// Reads one partition of a topic from its beginning up to the end it had when the read started.
///
/// Reading uses no consumer group and commits nothing. It suits rebuilding per-partition state from a
/// topic that is co-partitioned with a worker's input (same key, same partition count, outputs written
/// to the input's partition), such as the deposit crediter's own `deposits.credited.v1`.
public protocol PartitionReader: Sendable {
    /// Calls `body` with every record of `topic`'s `partition` from the low watermark up to, but not
    /// including, the high watermark observed when the call starts, in offset order.
    ///
    /// - Throws: An error when the partition cannot be read, or whatever `body` throws.
    func readFromBeginning(
        topic: String,
        partition: Int32,
        _ body: (InputRecord) async throws -> Void
    ) async throws
}
