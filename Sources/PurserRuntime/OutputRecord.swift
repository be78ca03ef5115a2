/// A record a worker asks the runtime to publish for one input record.
///
/// The runtime publishes every output of a record before it counts the record as finished, so the
/// committed input offset never passes a record whose outputs are not acknowledged (or, with
/// exactly-once processing, not part of the same transaction).
public struct OutputRecord: Sendable, Equatable {
    public var topic: String
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    /// An explicit partition, e.g. the input's partition to keep an output topic co-partitioned with
    /// its input; `nil` lets the producer's partitioner choose from the key.
    public var partition: Int32?

    public init(
        topic: String,
        key: [UInt8]?,
        value: [UInt8]?,
        headers: [RecordHeader] = [],
        partition: Int32? = nil
    ) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
    }

    /// An output keyed by `key` (a customer id).
    public init(topic: String, key: String, value: [UInt8], headers: [RecordHeader] = [], partition: Int32? = nil) {
        self.init(topic: topic, key: Array(key.utf8), value: value, headers: headers, partition: partition)
    }
}
