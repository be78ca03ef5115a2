import Foundation
import PurserKafka
import PurserSchema
import PurserTesting
import Testing

/// The built `purser-deposit-crediter` as three processes in one group against `purser broker`.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct CrediterProcessTests {
    static let account = "0x00000000000000000000000000000000000000aa"

    static let executablesBuilt =
        ChildProcess.executable("purser-deposit-crediter") != nil && ChildProcess.executable("purser") != nil

    @Test(
        "three crediter processes, one SIGKILLed mid-stream and restarted: exactly one credit per transaction",
        .enabled(if: executablesBuilt, "purser-deposit-crediter and purser are not built: run `swift build` (make test does)")
    )
    func killedReplicaCreditsNothingTwice() async throws {
        let crediter = try #require(ChildProcess.executable("purser-deposit-crediter"))
        let purser = try #require(ChildProcess.executable("purser"))
        let topics = TopicNames(prefix: KafkaTesting.uniqueName("p") + ".")
        let broker = try ChildProcess(
            purser,
            arguments: ["broker", "--prefix", topics.prefix, "--topics-dir", ChildProcess.packageRoot.appendingPathComponent("topics").path],
            environment: [:]
        )
        defer { broker.killIfRunning() }
        let bootstrap = try await broker.firstLine()
        let servers = bootstrap.split(separator: ",").map(String.init)

        let properties = FileManager.default.temporaryDirectory.appendingPathComponent(KafkaTesting.uniqueName("kafka") + ".properties")
        try "session.timeout.ms=6000\nheartbeat.interval.ms=500\nreconnect.backoff.max.ms=500\n"
            .write(to: properties, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: properties) }
        let environment = [
            "KAFKA_BROKERS": bootstrap, "TOPIC_PREFIX": topics.prefix, "CALYPSO_ACCOUNT_ID": Self.account,
            "PROCESSING_GUARANTEE": "at_least_once", "METRICS_PORT": "0", "LOG_LEVEL": "error",
            "KAFKA_PROPERTIES_FILE": properties.path,
        ]
        var replicas = try (0..<3).map { _ in try ChildProcess(crediter, environment: environment) }
        defer { for replica in replicas { replica.killIfRunning() } }

        let admin = try KafkaAdmin(options: KafkaClientOptions(bootstrapServers: servers), logger: KafkaTesting.logger)
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: servers)
        producerConfiguration.messageTimeout = .seconds(10)
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: KafkaTesting.logger)
        let partitions = try #require(try await admin.listTopics()[topics.depositsApproved])

        // 1,200 transactions, each approved twice, published in batches while the replicas run.
        let transactions = 1200
        for batch in 0..<12 {
            var records: [ProducerRecord] = []
            for index in (batch * 100)..<((batch + 1) * 100) {
                let record = try Approvals.record(index: index, customers: 50, topic: topics.depositsApproved)
                records += [record, record]
            }
            for outcome in try await producer.send(records) { _ = try outcome.get() }
            if batch == 4 {
                // Mid-stream: once credits flow, kill one replica without warning, then start a new one.
                try await KafkaTesting.withTimeout(.seconds(60)) {
                    while try await Self.count(topics.depositsCredited, partitions: partitions, admin) == 0 {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                replicas[0].signal(SIGKILL)
                _ = try await replicas[0].waitForExit()
                replicas[0] = try ChildProcess(crediter, environment: environment)
            }
            try await Task.sleep(for: .milliseconds(200))
        }

        // Wait until the group has committed every approval, then read every credit.
        var ends: [TopicPartitionOffset] = []
        for partition in 0..<Int32(partitions) {
            ends.append(TopicPartitionOffset(topics.depositsApproved, partition, offset: try await admin.watermarks(TopicPartition(topics.depositsApproved, partition)).high))
        }
        let target = ends
        try await KafkaTesting.withTimeout(.seconds(120)) {
            while true {
                let committed = try await admin.committedOffsets(group: "purser-deposit-crediter", topics: [topics.depositsApproved])
                let done = target.allSatisfy { end in
                    end.offset == 0 || committed.contains { $0.topicPartition == end.topicPartition && $0.offset >= end.offset }
                }
                if done { return }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        for replica in replicas { replica.signal(SIGTERM) }
        for replica in replicas {
            #expect(try await replica.waitForExit() == 0, "SIGTERM drains, commits and exits 0")
        }

        var credits: [CloudEvent<DepositCredited>] = []
        for partition in 0..<Int32(partitions) {
            for record in try await admin.readPartition(TopicPartition(topics.depositsCredited, partition)) {
                credits.append(try CloudEvent<DepositCredited>(recordValue: record.value ?? []))
            }
        }
        #expect(credits.count == transactions, "one credit per transaction")
        #expect(Set(credits.map(\.data.deposit.transactionId)).count == transactions)
        #expect(Set(credits.map(\.id)).count == transactions)
        #expect(credits.allSatisfy { $0.data.account == Self.account })
        await producer.shutdown()
        broker.signal(SIGTERM)
        _ = try await broker.waitForExit()
    }

    static func count(_ topic: String, partitions: Int, _ admin: KafkaAdmin) async throws -> Int {
        var total: Int64 = 0
        for partition in 0..<Int32(partitions) {
            let (low, high) = try await admin.watermarks(TopicPartition(topic, partition))
            total += high - low
        }
        return Int(total)
    }
}
