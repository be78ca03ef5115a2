/// A topic and one of its partitions.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// A position in a partition: the offset of the next record to read (or a special offset).
public struct TopicPartitionOffset: Hashable, Sendable, CustomStringConvertible {
    public var topicPartition: TopicPartition
    public var offset: Int64

    /// The oldest record still in the partition.
    public static let beginning: Int64 = -2
    /// The end of the partition: only records written from now on.
    public static let end: Int64 = -1
    /// No offset (nothing committed).
    public static let invalid: Int64 = -1001

    public init(_ topicPartition: TopicPartition, offset: Int64) {
        self.topicPartition = topicPartition
        self.offset = offset
    }

    public init(_ topic: String, _ partition: Int32, offset: Int64) {
        self.init(TopicPartition(topic, partition), offset: offset)
    }

    public var description: String { "\(topicPartition)@\(offset)" }
}

/// A record header. Headers keep their order; a key may repeat and a value may be null.
public struct KafkaHeader: Hashable, Sendable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    public init(key: String, value: String) { self.init(key: key, value: Array(value.utf8)) }
}

/// A record to send.
public struct ProducerRecord: Sendable {
    public var topic: String
    /// An explicit partition; `nil` lets the partitioner choose by key.
    public var partition: Int32?
    public var key: [UInt8]?
    /// `nil` is a tombstone.
    public var value: [UInt8]?
    public var headers: [KafkaHeader]

    public init(
        topic: String,
        partition: Int32? = nil,
        key: [UInt8]?,
        value: [UInt8]?,
        headers: [KafkaHeader] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }

    public init(topic: String, partition: Int32? = nil, key: String, value: String, headers: [KafkaHeader] = []) {
        self.init(topic: topic, partition: partition, key: Array(key.utf8), value: Array(value.utf8), headers: headers)
    }
}

/// A record read from a partition.
public struct ConsumerRecord: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    /// `nil` for a tombstone.
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since 1970 (create or log-append time), when the record has one.
    public var timestampMilliseconds: Int64?
    /// Which assignment (or seek) of its partition delivered the record; not part of its identity.
    var epoch = 0

    public init(
        topic: String,
        partition: Int32,
        offset: Int64,
        key: [UInt8]?,
        value: [UInt8]?,
        headers: [KafkaHeader] = [],
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

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    /// The position after this record: what a consumer commits once the record is processed.
    public var nextOffset: TopicPartitionOffset { TopicPartitionOffset(topicPartition, offset: offset + 1) }

    public static func == (lhs: ConsumerRecord, rhs: ConsumerRecord) -> Bool {
        lhs.topicPartition == rhs.topicPartition && lhs.offset == rhs.offset && lhs.key == rhs.key && lhs.value == rhs.value
            && lhs.headers == rhs.headers && lhs.timestampMilliseconds == rhs.timestampMilliseconds
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(topic)
        hasher.combine(partition)
        hasher.combine(offset)
    }

    /// The last header with this key, as UTF-8 text.
    public func header(_ key: String) -> String? {
        headers.last { $0.key == key }?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Where the broker stored an acknowledged record.
public struct DeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
}
