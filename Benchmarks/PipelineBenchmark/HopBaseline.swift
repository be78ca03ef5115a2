import Foundation
import Logging
import PurserKafka

/// The embedded broker alone over the pipeline's four hops: a source produces at the offered rate, three
/// relays each consume a topic and produce every record to the next, a sink consumes the last topic.
/// Every value is the source's wall-clock send time, so the sink measures produce→consume latency over
/// the same number of hops as webhook→credit.
struct HopBaseline {
    static let hops = 4
    /// Records sent and awaited before the clock starts, like the pipeline's warm-up deposits: without
    /// them the first records wait for every consumer's first fetch, seconds at the start of a run.
    static let warmUpRecords = 200
    private static let warmUpValue = Array("warm-up".utf8)
    let partitions: Int
    let logger: Logger

    struct Result {
        var latencies: [Double]
        var perSecond: Double
    }

    /// Sends `count` records, `perSecond` of them per second (`nil`: as fast as the producer takes them).
    func run(count: Int, perSecond: Double?) async throws -> Result {
        let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
        let topics = (0..<Self.hops).map { "hop-\($0)" }
        for topic in topics { try kafka.createTopic(topic, partitions: partitions) }
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: kafka.brokers)
        producerConfiguration.messageTimeout = .seconds(60)
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)

        let relays = try topics.dropLast().map { try reader(of: $0, kafka) }
        let sink = try reader(of: topics[topics.count - 1], kafka)
        let (warmedUp, warmUpDone) = AsyncStream.makeStream(of: Never.self)
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            for (consumer, to) in zip(relays, topics.dropFirst()) {
                group.addTask {
                    try await withThrowingDiscardingTaskGroup { sends in
                        for try await record in consumer.records {
                            sends.addTask {
                                _ = try await producer.send(ProducerRecord(topic: to, key: record.key, value: record.value ?? []))
                            }
                        }
                    }
                    return nil
                }
            }
            group.addTask {
                var latencies: [Double] = []
                var first: Double?
                var last = 0.0
                var warmUpSeen = 0
                for try await record in sink.records {
                    let now = Date().timeIntervalSince1970
                    guard record.value != Self.warmUpValue else {
                        warmUpSeen += 1
                        if warmUpSeen == Self.warmUpRecords { warmUpDone.finish() }
                        continue
                    }
                    let sent = Double(String(decoding: record.value ?? [], as: UTF8.self)) ?? now
                    first = first ?? sent
                    last = now
                    latencies.append((now - sent) * 1000)
                    if latencies.count == count { break }
                }
                return Result(latencies: latencies, perSecond: Double(count) / (last - (first ?? last)))
            }
            try await withThrowingDiscardingTaskGroup { sends in
                for index in 0..<Self.warmUpRecords {
                    let record = ProducerRecord(topic: topics[0], key: Array("customer-\(index % 100)".utf8), value: Self.warmUpValue)
                    sends.addTask { _ = try await producer.send(record) }
                }
            }
            for await _ in warmedUp {}
            let start = ContinuousClock.now
            try await withThrowingDiscardingTaskGroup { sends in
                for index in 0..<count {
                    if let perSecond {
                        try await Task.sleep(until: start + .seconds(Double(index) / perSecond), clock: .continuous)
                    }
                    let value = Array(String(Date().timeIntervalSince1970).utf8)
                    let record = ProducerRecord(topic: topics[0], key: Array("customer-\(index % 100)".utf8), value: value)
                    sends.addTask { _ = try await producer.send(record) }
                }
            }
            var result: Result?
            while result == nil, let next = try await group.next() { result = next }
            for consumer in relays + [sink] { await consumer.shutdown() }
            group.cancelAll()
            await producer.shutdown()
            return result!
        }
    }

    private func reader(of topic: String, _ kafka: EmbeddedKafka) throws -> KafkaConsumer {
        let consumer = try KafkaConsumer(
            configuration: .embeddedBrokerReader(kafka.brokers),
            logger: logger
        )
        try consumer.assign((0..<Int32(partitions)).map { TopicPartitionOffset(topic, $0, offset: TopicPartitionOffset.beginning) })
        return consumer
    }
}

extension KafkaConsumerConfiguration {
    /// A reader of assigned partitions of the embedded broker, with the short fetch wait it needs.
    static func embeddedBrokerReader(_ brokers: [String]) -> Self {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: brokers, groupID: nil)
        configuration.fetchMaxWait = EmbeddedKafka.clientFetchMaxWait
        return configuration
    }
}
