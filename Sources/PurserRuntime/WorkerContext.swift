import Logging

/// What the runtime hands a worker along with a record or a partition assignment.
public struct WorkerContext: Sendable {
    /// A logger carrying the worker's name and, while processing, the record's topic, partition and offset.
    public var logger: Logger

    /// Which attempt this is for the current record: 1 for the first, 2 for the first retry, and so on.
    /// Always 1 outside ``Worker/process(_:context:)``.
    public var attempt: Int

    /// Reads a partition of any topic from its beginning, e.g. to rebuild state from an output topic.
    public var partitions: any PartitionReader

    public init(logger: Logger, attempt: Int = 1, partitions: any PartitionReader) {
        self.logger = logger
        self.attempt = attempt
        self.partitions = partitions
    }
}
