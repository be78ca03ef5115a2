// Kafka throughput through PurserKafka against the same workload written directly against
// librdkafka (KafkaBaseline, C), in one run on the embedded broker. `make bench` runs it.
import Foundation
import KafkaBaseline
import Logging
import PurserKafka

// The embedded broker keeps about 5 MiB per partition: 30 000 records of 1 KiB over 12 partitions
// stay whole, so the consumers can read every one.
let recordCount = Int(ProcessInfo.processInfo.environment["BENCH_RECORDS"] ?? "") ?? 30_000
let recordSize = 1024
let partitions = 12
let batchSize = 1000
let rounds = 3

let logger: Logger = {
    var logger = Logger(label: "purser.bench")
    logger.logLevel = .error
    return logger
}()
let kafka = try EmbeddedKafka(brokers: 1, logger: logger)

func topic(_ name: String, _ round: Int) -> String {
    let full = "bench-\(name)-\(round)"
    try! kafka.createTopic(full, partitions: partitions)
    return full
}

func rate(_ seconds: Double) -> Double { Double(recordCount) / seconds }

func baselineProduce(_ topic: String) -> Double {
    var failures = 0
    let seconds = kafka_baseline_produce(kafka.bootstrapServers, topic, Int32(recordCount), Int32(recordSize), &failures)
    precondition(seconds > 0 && failures == 0, "baseline produce failed (\(failures) failures)")
    return rate(seconds)
}

func swiftProduce(_ topic: String) async throws -> Double {
    var configuration = KafkaProducerConfiguration(bootstrapServers: kafka.brokers)
    configuration.messageTimeout = .seconds(120)
    let producer = try KafkaProducer(configuration: configuration, logger: logger)
    let value = [UInt8](repeating: UInt8(ascii: "x"), count: recordSize)
    let keys = (0..<100).map { Array("key-\($0)".utf8) }
    let records = (0..<recordCount).map { ProducerRecord(topic: topic, key: keys[$0 % 100], value: value) }
    let start = ContinuousClock.now
    // Batches of `batchSize`, all in flight at once, like the C loop that enqueues everything.
    let failures = try await withThrowingTaskGroup(of: Int.self) { group in
        for first in stride(from: 0, to: recordCount, by: batchSize) {
            let batch = Array(records[first..<min(first + batchSize, recordCount)])
            group.addTask { try await producer.send(batch).filter { (try? $0.get()) == nil }.count }
        }
        return try await group.reduce(0, +)
    }
    precondition(failures == 0, "\(failures) records failed")
    let elapsed = ContinuousClock.now - start
    await producer.shutdown()
    return rate(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

func baselineConsume(_ topic: String) -> Double {
    let seconds = kafka_baseline_consume(kafka.bootstrapServers, topic, Int32(partitions), Int32(recordCount))
    precondition(seconds > 0, "baseline consume failed")
    return rate(seconds)
}

func swiftConsume(_ topic: String) async throws -> Double {
    let consumer = try KafkaConsumer(
        configuration: KafkaConsumerConfiguration(bootstrapServers: kafka.brokers, groupID: nil),
        logger: logger
    )
    let start = ContinuousClock.now
    try consumer.assign((0..<Int32(partitions)).map { TopicPartitionOffset(topic, $0, offset: TopicPartitionOffset.beginning) })
    var received = 0
    var bytes = 0
    for try await record in consumer.records {
        received += 1
        bytes += record.value?.count ?? 0
        if received == recordCount { break }
    }
    let elapsed = ContinuousClock.now - start
    precondition(bytes == recordCount * recordSize)
    await consumer.shutdown()
    return rate(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

func report(_ name: String, swift: Double, baseline: Double) {
    let line = String(
        format: "%-9@ PurserKafka %9.0f records/s   librdkafka (C) %9.0f records/s   ratio %.2f",
        name as NSString, swift, baseline, swift / baseline
    )
    print(line)
}

print("Kafka benchmark: \(recordCount) records of \(recordSize) B, \(partitions) partitions, embedded broker, idempotent acks=all; best of \(rounds) rounds")
var best = (swiftProduce: 0.0, baselineProduce: 0.0, swiftConsume: 0.0, baselineConsume: 0.0)
for round in 0..<rounds {
    let baselineTopic = topic("baseline", round)
    let swiftTopic = topic("swift", round)
    // Alternate the order between rounds so neither side always runs on a warmer broker.
    if round % 2 == 0 {
        best.baselineProduce = max(best.baselineProduce, baselineProduce(baselineTopic))
        best.swiftProduce = max(best.swiftProduce, try await swiftProduce(swiftTopic))
        best.baselineConsume = max(best.baselineConsume, baselineConsume(baselineTopic))
        best.swiftConsume = max(best.swiftConsume, try await swiftConsume(swiftTopic))
    } else {
        best.swiftProduce = max(best.swiftProduce, try await swiftProduce(swiftTopic))
        best.baselineProduce = max(best.baselineProduce, baselineProduce(baselineTopic))
        best.swiftConsume = max(best.swiftConsume, try await swiftConsume(swiftTopic))
        best.baselineConsume = max(best.baselineConsume, baselineConsume(baselineTopic))
    }
}
report("produce", swift: best.swiftProduce, baseline: best.baselineProduce)
report("consume", swift: best.swiftConsume, baseline: best.baselineConsume)
