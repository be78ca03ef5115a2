/// A record consumed from an input topic, handed to ``Worker/process(_:context:)``.
///
/// Key and value are optional because Kafka allows both to be null (a tombstone on a compacted topic
/// has no value). Purser keys every record by customer id.
public struct InputRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    /// Milliseconds since the Unix epoch, as stamped by the producer or broker; `nil` when unknown.
    public var timestampMilliseconds: Int64?

    public init(
        topic: String,
        partition: Int32,
        offset: Int64,
        key: [UInt8]?,
        value: [UInt8]?,
        headers: [RecordHeader] = [],
        timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// The key read as UTF-8 (the customer id on every Purser topic), or `nil`.
    public var keyString: String? {
        key.flatMap { String(validating: $0, as: UTF8.self) }
    }
}
