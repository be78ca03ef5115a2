// Kafka throughput through PurserKafka against the same workload written directly against
// librdkafka (KafkaBaseline, C), in one run on the embedded broker. `make bench` runs it.
//
// Like with like: both sides get the same librdkafka properties (every property PurserKafka sets,
// restated below), the same records (size, keys, count) and the same in-flight window (everything
// enqueued at once, then every delivery report awaited). On a shared machine one run's speed says more
// about the neighbours than about the code, so each Swift run is paired with a C run right next to it,
// the pairs alternate which side goes first, and the ratio is the median of the pairs' ratios. The two
// consumers of a pair read the same topic. Consuming also reports the CPU time the process spent per
// record, which load on other processes barely moves.
import Foundation
import KafkaBaseline
import Logging
import PurserKafka
import PurserTesting

let environment = ProcessInfo.processInfo.environment
// The embedded broker keeps about 5 MiB per partition: 100 000 records of 1 KiB over 48 partitions (about 2 MiB each)
// stay whole, so the consumers can read every one.
let recordCount = Int(environment["BENCH_RECORDS"] ?? "") ?? 100_000
let rounds = Int(environment["BENCH_ROUNDS"] ?? "") ?? 5
let recordSize = 1024
let partitions = 48
let batchSize = 1000

let logger: Logger = {
    var logger = Logger(label: "purser.bench")
    logger.logLevel = .error
    return logger
}()
let kafka = try EmbeddedKafka(brokers: 1, logger: logger)

let clientProperties = [
    ("bootstrap.servers", kafka.bootstrapServers),
    ("client.id", "purser-bench"),
    ("reconnect.backoff.max.ms", "2000"),
]
let producerProperties =
    clientProperties + [
        ("enable.idempotence", "true"),
        ("acks", "all"),
        ("message.timeout.ms", "120000"),
        ("linger.ms", "5"),
    ]
let consumerProperties =
    clientProperties + [
        ("group.id", "bench-assign-only"),
        ("auto.offset.reset", "earliest"),
        ("enable.auto.commit", "false"),
        ("enable.auto.offset.store", "false"),
        ("isolation.level", "read_committed"),
        ("enable.partition.eof", "false"),
        ("fetch.wait.max.ms", "500"),
        ("partition.assignment.strategy", "cooperative-sticky"),
    ]

func topic(_ name: String, _ round: Int) -> String {
    let full = "bench-\(name)-\(round)"
    try! kafka.createTopic(full, partitions: partitions)
    return full
}

func rate(_ elapsed: Duration) -> Double {
    Double(recordCount) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

/// One consumer's run: records per second, and CPU microseconds per record over the same span.
struct ConsumeRun {
    var rate: Double
    var cpuPerRecord: Double
}

/// Calls `body` with the properties as the C side wants them: a flat array of C strings.
func withCProperties<R>(_ properties: [(String, String)], _ body: (UnsafePointer<UnsafePointer<CChar>?>, Int32) -> R) -> R {
    let strings = properties.flatMap { [strdup($0.0), strdup($0.1)] }
    defer { strings.forEach { free($0) } }
    let pointers = strings.map { UnsafePointer($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!, Int32(properties.count)) }
}

func baselineProduce(_ topic: String) -> Double {
    var failures = 0
    let seconds = withCProperties(producerProperties) {
        kafka_baseline_produce($0, $1, topic, Int32(recordCount), Int32(recordSize), &failures)
    }
    precondition(seconds > 0 && failures == 0, "baseline produce failed (\(failures) failures)")
    return Double(recordCount) / seconds
}

func swiftProduce(_ topic: String) async throws -> Double {
    var configuration = KafkaProducerConfiguration(bootstrapServers: kafka.brokers)
    configuration.client.additionalProperties = Dictionary(uniqueKeysWithValues: producerProperties)
    let producer = try KafkaProducer(configuration: configuration, logger: logger)
    let value = [UInt8](repeating: UInt8(ascii: "x"), count: recordSize)
    let keys = (0..<100).map { Array("key-\($0)".utf8) }
    let batches = stride(from: 0, to: recordCount, by: batchSize).map { first in
        (first..<min(first + batchSize, recordCount)).map { ProducerRecord(topic: topic, key: keys[$0 % 100], value: value) }
    }
    // Warm-up, as on the C side: one acknowledged record, so the clock measures throughput, not
    // connection set-up and topic metadata.
    _ = try await producer.send(ProducerRecord(topic: topic, key: nil, value: value))
    let start = ContinuousClock.now
    // Every batch in flight at once, like the C loop that enqueues everything before flushing.
    let failures = try await withThrowingTaskGroup(of: Int.self) { group in
        for batch in batches {
            group.addTask { try await producer.send(batch).filter { (try? $0.get()) == nil }.count }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = ContinuousClock.now - start
    precondition(failures == 0, "\(failures) records failed")
    await producer.shutdown()
    return rate(elapsed)
}

func baselineConsume(_ topic: String) -> ConsumeRun {
    var cpuSeconds = 0.0
    let seconds = withCProperties(consumerProperties) {
        kafka_baseline_consume($0, $1, topic, Int32(partitions), Int32(recordCount), &cpuSeconds)
    }
    precondition(seconds > 0, "baseline consume failed")
    return ConsumeRun(rate: Double(recordCount) / seconds, cpuPerRecord: cpuSeconds * 1e6 / Double(recordCount))
}

func swiftConsume(_ topic: String) async throws -> ConsumeRun {
    var configuration = KafkaConsumerConfiguration(bootstrapServers: kafka.brokers, groupID: nil)
    configuration.client.additionalProperties = Dictionary(uniqueKeysWithValues: consumerProperties)
    let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
    try consumer.assign((0..<Int32(partitions)).map { TopicPartitionOffset(topic, $0, offset: TopicPartitionOffset.beginning) })
    var received = 0
    var bytes = 0
    // The clock starts at the first record, as on the C side: throughput, not fetch set-up.
    var first = ContinuousClock.now
    var firstCPU = 0.0
    for try await record in consumer.records {
        if received == 0 {
            first = .now
            firstCPU = processCPUSeconds()
        }
        received += 1
        bytes += record.value?.count ?? 0
        if received == recordCount { break }
    }
    let elapsed = ContinuousClock.now - first
    let cpuSeconds = processCPUSeconds() - firstCPU
    precondition(bytes == recordCount * recordSize)
    await consumer.shutdown()
    return ConsumeRun(rate: rate(elapsed), cpuPerRecord: cpuSeconds * 1e6 / Double(recordCount))
}

/// Paired runs: `swift[i]` ran right next to `baseline[i]`.
struct Figures {
    var swift: [Double] = []
    var baseline: [Double] = []

    /// PurserKafka's figure over C's, `higherIsBetter` deciding which way round: above 1 means PurserKafka did better.
    func report(_ name: String, unit: String, higherIsBetter: Bool = true) {
        let ratios = zip(swift, baseline).map { higherIsBetter ? $0 / $1 : $1 / $0 }
        print(
            String(
                format: "%-13@ PurserKafka %9.2f %@   librdkafka (C) %9.2f %@   ratio %.2f   (pairs: %@)",
                name as NSString, median(swift), unit as NSString, median(baseline), unit as NSString, median(ratios),
                ratios.map { String(format: "%.2f", $0) }.joined(separator: " ") as NSString
            )
        )
    }
}

print(
    "Kafka benchmark: \(recordCount) records of \(recordSize) B, \(partitions) partitions, embedded broker, "
        + "idempotent acks=all, linger 5 ms; \(rounds) rounds (medians; ratios of side-by-side pairs)"
)
var produce = Figures()
var consume = Figures()
var consumeCPU = Figures()
/// Both sides read the same topic: how a producer batched its records (records per batch) changes the cost
/// of fetching them, which is not the consumer's doing.
@MainActor func measureConsume(_ topic: String, swiftFirst: Bool) async throws {
    var swift: ConsumeRun
    var baseline: ConsumeRun
    if swiftFirst {
        swift = try await swiftConsume(topic)
        baseline = baselineConsume(topic)
    } else {
        baseline = baselineConsume(topic)
        swift = try await swiftConsume(topic)
    }
    consume.swift.append(swift.rate)
    consume.baseline.append(baseline.rate)
    consumeCPU.swift.append(swift.cpuPerRecord)
    consumeCPU.baseline.append(baseline.cpuPerRecord)
}
for round in 0..<rounds {
    let baselineTopic = topic("baseline", round)
    let swiftTopic = topic("swift", round)
    // Alternate the order between rounds so neither side always runs on a warmer broker; consuming is cheap
    // next to producing, so each round has both consumers read each topic, in mirrored order (ABBA).
    let swiftFirst = round % 2 == 1
    if swiftFirst {
        produce.swift.append(try await swiftProduce(swiftTopic))
        produce.baseline.append(baselineProduce(baselineTopic))
    } else {
        produce.baseline.append(baselineProduce(baselineTopic))
        produce.swift.append(try await swiftProduce(swiftTopic))
    }
    try await measureConsume(swiftTopic, swiftFirst: swiftFirst)
    try await measureConsume(baselineTopic, swiftFirst: !swiftFirst)
}
produce.report("produce", unit: "rec/s")
consume.report("consume", unit: "rec/s")
consumeCPU.report("consume CPU", unit: "us/rec", higherIsBetter: false)
