import PurserKafka

/// Partitions are the Kafka module's; the runtime adds the labelled initializer its API uses.
public typealias TopicPartition = PurserKafka.TopicPartition

extension TopicPartition {
    public init(topic: String, partition: Int32) {
        self.init(topic, partition)
    }
}

extension InputRecord {
    public init(_ record: ConsumerRecord) {
        self.init(
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            key: record.key,
            value: record.value,
            headers: record.headers.map { RecordHeader(name: $0.key, value: $0.value) },
            timestampMilliseconds: record.timestampMilliseconds
        )
    }
}

extension ProducerRecord {
    public init(_ record: OutputRecord) {
        self.init(
            topic: record.topic,
            partition: record.partition,
            key: record.key,
            value: record.value,
            headers: record.headers.map { KafkaHeader(key: $0.name, value: $0.value) }
        )
    }
}
