import Prometheus
import PurserKafka
import PurserRuntime
import PurserTesting
import ServiceLifecycle
import Synchronization
import Testing

/// The runtime end to end, on the embedded broker over the Kafka protocol.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct WorkerServiceTests {
    @Test("records of one key run in offset order while different keys overlap")
    func keyOrderAndOverlap() async throws {
        let fixture = try WorkerFixture()
        // a#0 cannot finish until b's record has started: only possible if keys run concurrently.
        _ = try await fixture.send("a", "needs:b-first")
        for sequence in 1..<5 { _ = try await fixture.send("a", "slow:\(sequence * 5)") }
        _ = try await fixture.send("b", "b-first")
        for sequence in 1..<5 { _ = try await fixture.send("b", "slow:\(sequence)") }

        try await fixture.withWorker { _ in
            _ = try await fixture.read(fixture.output, count: 10)
        }
        let started = fixture.log.started
        for key in ["a", "b"] {
            let offsets = started.filter { $0.key == key }.map(\.offset)
            #expect(offsets == offsets.sorted(), "key \(key) in offset order")
            #expect(offsets.count == 5, "each record of \(key) processed once")
        }
        let finished = fixture.log.finished
        for key in ["a", "b"] {
            let offsets = finished.filter { $0.key == key }.map(\.offset)
            #expect(offsets == offsets.sorted(), "key \(key) finished in offset order")
        }
        #expect(fixture.log.maxRunning >= 2)
    }

    @Test("the committed offset never passes an unfinished record")
    func slowRecordHoldsTheCommitBack() async throws {
        let fixture = try WorkerFixture()
        _ = try await fixture.send("slow-customer", "gate")
        for index in 1...9 { _ = try await fixture.send("customer-\(index)", "ok") }

        try await fixture.withWorker { _ in
            let outputs = try await fixture.read(fixture.output, count: 9)
            #expect(Set(outputs.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }).count == 9)
            // Later records are done and several commit intervals pass: still nothing past offset 0.
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await fixture.committedOffset() ?? 0 == 0)

            fixture.log.openGate()
            try await fixture.eventually("offset 10 committed") { try await fixture.committedOffset() == 10 }
        }
    }

    @Test("a record that is not JSON goes to the DLQ with its failure headers; the partition keeps flowing")
    func poisonRecordIsDeadLettered() async throws {
        let fixture = try WorkerFixture()
        let poison = try await fixture.send("customer-1", "poison")
        _ = try await fixture.send("customer-1", "ok")
        _ = try await fixture.send("customer-2", "ok")

        let registry = PrometheusCollectorRegistry()
        let (deadLetters, outputs) = try await fixture.withWorker(metricsFactory: PrometheusMetricsFactory(registry: registry)) { _ in
            (try await fixture.read(fixture.deadLetterTopic, count: 1), try await fixture.read(fixture.output, count: 2))
        }
        let metrics = registry.emitToString()
        #expect(metrics.contains(#"purser_worker_dead_lettered_total{worker="\#(fixture.workerName)"} 1"#))
        #expect(metrics.contains(#"purser_worker_processed_total{worker="\#(fixture.workerName)"} 2"#))
        let deadLetter = try #require(deadLetters.first)
        #expect(deadLetter.key == Array("customer-1".utf8))
        #expect(deadLetter.value == Array("poison".utf8))
        #expect(deadLetter.header(DeadLetter.Header.topic) == fixture.input)
        #expect(deadLetter.header(DeadLetter.Header.partition) == "\(poison.partition)")
        #expect(deadLetter.header(DeadLetter.Header.offset) == "\(poison.offset)")
        #expect(deadLetter.header(DeadLetter.Header.reason) == "permanent")
        #expect(deadLetter.header(DeadLetter.Header.attempts) == "1")
        #expect(deadLetter.header(DeadLetter.Header.error)?.isEmpty == false, "the decoder's error is named")
        #expect(deadLetter.header(DeadLetter.Header.worker) == fixture.workerName)
        #expect(deadLetter.header(DeadLetter.Header.time) != nil)
        #expect(fixture.log.deadLettered.map(\.offset) == [poison.offset], "the worker is told, to undo what the record claimed")
        #expect(outputs.map { String(decoding: $0.key ?? [], as: UTF8.self) }.sorted() == ["customer-1", "customer-2"])
        try await fixture.eventually("all three committed") { try await fixture.committedOffset() == 3 }
    }

    @Test("a transient error is retried and then succeeds; other keys are not held back")
    func transientErrorIsRetried() async throws {
        let fixture = try WorkerFixture()
        _ = try await fixture.send("flaky-customer", "flaky:2")
        _ = try await fixture.send("other", "ok")

        let outputs = try await fixture.withWorker { _ in try await fixture.read(fixture.output, count: 2) }
        #expect(outputs.count == 2)
        let attempts = fixture.log.started.filter { $0.key == "flaky-customer" }.map(\.attempt)
        #expect(attempts == [1, 2, 3])
        #expect(fixture.log.finished.filter { $0.key == "other" }.count == 1)
    }

    @Test("exhausted retries go to the DLQ with the attempt count")
    func exhaustedRetriesAreDeadLettered() async throws {
        let fixture = try WorkerFixture()
        let exhausted = try await fixture.send("customer", "flaky:100")
        _ = try await fixture.send("customer", "ok")

        let (deadLetters, outputs) = try await fixture.withWorker { _ in
            (try await fixture.read(fixture.deadLetterTopic, count: 1), try await fixture.read(fixture.output, count: 1))
        }
        #expect(deadLetters.first?.header(DeadLetter.Header.reason) == "exhausted")
        #expect(deadLetters.first?.header(DeadLetter.Header.attempts) == "4")
        #expect(outputs.first?.value == Array("ok".utf8), "the key's next record runs after the dead letter")
        #expect(fixture.log.deadLettered.map(\.offset) == [exhausted.offset])
    }

    @Test("graceful shutdown commits what finished; a restart redoes only records after the first unfinished one")
    func gracefulShutdownLosesNothing() async throws {
        let fixture = try WorkerFixture(partitions: 2)
        for index in 0..<40 { _ = try await fixture.send("customer-\(index % 8)", index == 20 ? "gate" : "slow:5") }

        try await fixture.withWorker { _ in
            try await fixture.eventually("some records done") { fixture.log.finished.count >= 10 }
        }
        let firstRun = fixture.log.finished
        fixture.log.openGate()

        try await fixture.withWorker { _ in
            try await fixture.eventually("every record processed") {
                Set(fixture.log.finished.map { "\($0.partition)/\($0.offset)" }).count == 40
            }
        }
        let secondRun = fixture.log.finished.dropFirst(firstRun.count)
        for partition in Int32(0)..<2 {
            let doneFirst = Set(firstRun.filter { $0.partition == partition }.map(\.offset))
            // At-least-once: the commit stops at the first record not finished before shutdown.
            let committed = (Int64(0)...).first { !doneFirst.contains($0) }!
            let redone = secondRun.filter { $0.partition == partition && $0.offset < committed }
            #expect(redone.isEmpty, "partition \(partition): nothing before offset \(committed) ran again")
        }
    }

    @Test("two instances split the partitions and nothing is lost or processed twice")
    func rebalanceWithTwoInstances() async throws {
        let fixture = try WorkerFixture(partitions: 4)
        let total = 200
        try await fixture.withWorker { _ in
            for index in 0..<total / 2 { _ = try await fixture.send("customer-\(index % 20)", "slow:2") }
            try await fixture.eventually("first half underway") { fixture.log.finished.count >= 20 }
            try await fixture.withWorker { _ in
                for index in total / 2..<total { _ = try await fixture.send("customer-\(index % 20)", "slow:2") }
                try await fixture.eventually("all processed", timeout: .seconds(60)) {
                    Set(fixture.log.finished.map { "\($0.partition)/\($0.offset)" }).count == total
                }
            }
        }
        let finished = fixture.log.finished.map { "\($0.partition)/\($0.offset)" }
        #expect(Set(finished).count == total)
        #expect(finished.count == total, "no record processed twice across the rebalance")
    }

    /// A record the revoke of its partition stopped waiting for is processed again by the partition's new owner;
    /// when the first run ends it must publish nothing, or the record has two outputs.
    @Test("a record still running when its partition's revoke gives up publishes nothing")
    func recordOutlivingTheRevokePublishesNothing() async throws {
        let fixture = try WorkerFixture(partitions: 2)
        let configuration = {
            var configuration = fixture.configuration()
            configuration.revokeDrainTimeout = .seconds(1)
            return configuration
        }()
        try await fixture.withWorker(configuration: configuration) { _ in
            _ = try await fixture.send("k0", "slow:8000", partition: 0)
            _ = try await fixture.send("k1", "slow:8000", partition: 1)
            try await fixture.eventually("both records run") { fixture.log.started.count == 2 }
            // A second member takes one partition; the first gives its running record up after a second.
            try await fixture.withWorker(configuration: configuration) { _ in
                try await fixture.eventually("the moved record ran twice", timeout: .seconds(60)) {
                    fixture.log.finished.count == 3
                }
            }
        }
        let outputs = try await fixture.read(fixture.output, count: 2, partitions: 2)
        #expect(outputs.count == 2)
        let consumer = try KafkaConsumer(
            configuration: KafkaTesting.consumerConfiguration(fixture.kafka, groupID: nil),
            logger: KafkaTesting.logger
        )
        var written: Int64 = 0
        for partition: Int32 in [0, 1] {
            written += try await consumer.watermarks(TopicPartition(fixture.output, partition)).high
        }
        await consumer.shutdown()
        #expect(written == 2, "one output per input record, none from the run its partition's revoke gave up")
    }

    /// librdkafka keeps a partition's pause across being revoked and assigned again: a partition that
    /// leaves while intake is paused, and comes back after intake resumed, must be resumed too.
    @Test("a partition revoked while intake is paused flows again when it comes back")
    func partitionRevokedWhilePausedFlowsAgain() async throws {
        let fixture = try WorkerFixture(partitions: 2)
        try await fixture.withWorker(configuration: fixture.configuration(maxInFlight: 2)) { _ in
            // One long record and three behind it, of one key: four held (twice the bound), intake paused for six
            // seconds.
            _ = try await fixture.send("busy", "slow:6000", partition: 1)
            for _ in 0..<3 { _ = try await fixture.send("busy", "ok", partition: 1) }
            try await fixture.eventually("the long record runs") { fixture.log.started.contains { $0.value == "slow:6000" } }
            // A second member takes a partition while the first is paused, and leaves once the first is idle.
            try await fixture.withWorker { _ in
                try await fixture.eventually("the paused member catches up", timeout: .seconds(60)) {
                    fixture.log.finished.count >= 4
                }
                try await Task.sleep(for: .seconds(1))
            }
            for partition: Int32 in [0, 1] {
                for _ in 0..<3 { _ = try await fixture.send("after-\(partition)", "ok", partition: partition) }
            }
            try await fixture.eventually("both partitions flow again", timeout: .seconds(60)) {
                fixture.log.finished.filter { $0.key.hasPrefix("after-") }.count == 6
            }
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(2)))
struct WorkerProcessTests {
    @Test("a worker process serves its workers' metrics and becomes ready once they joined")
    func healthAndMetricsOfAWorkerProcess() async throws {
        let fixture = try WorkerFixture()
        _ = try await fixture.send("customer-1", "ok")
        var configuration = fixture.configuration()
        configuration.metricsPort = 0
        var process = WorkerProcess(configuration: configuration, logger: KafkaTesting.logger)
        process.host = "127.0.0.1"
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let services = process.services(workers: [fixture.worker]) { portContinuation.yield($0) }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [], logger: KafkaTesting.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            _ = try await fixture.read(fixture.output, count: 1)
            try await fixture.eventually("ready") { try await HealthServerTests.get(port, "/health/ready").status == 200 }
            let metrics = try await HealthServerTests.get(port, "/metrics").body
            #expect(metrics.contains(#"purser_worker_processed_total{worker="\#(fixture.workerName)"} 1"#))
            #expect(metrics.contains("purser_worker_processing_seconds"))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(2)))
struct PartitionHookTests {
    /// Rebuilds, per assigned partition, the set of values already in the output topic, and skips
    /// inputs whose value is in it: the deposit crediter's dedup pattern.
    final class DedupWorker: Worker {
        let name: String
        let inputTopics: [String]
        let output: String
        let seen = Mutex<[Int32: Set<String>]>([:])
        let events = Mutex<[String]>([])

        init(name: String, inputTopics: [String], output: String) {
            self.name = name
            self.inputTopics = inputTopics
            self.output = output
        }

        func partitionsAssigned(_ partitions: [TopicPartition], context: WorkerContext) async throws {
            for partition in partitions {
                var values: Set<String> = []
                try await context.partitions.readFromBeginning(topic: output, partition: partition.partition) {
                    values.insert(String(decoding: $0.value ?? [], as: UTF8.self))
                }
                seen.withLock { $0[partition.partition] = values }
                events.withLock { $0.append("assigned \(partition.partition) knowing \(values.count)") }
            }
        }

        func partitionsRevoked(_ partitions: [TopicPartition]) async {
            seen.withLock { seen in for partition in partitions { seen[partition.partition] = nil } }
            events.withLock { $0.append("revoked \(partitions.count)") }
        }

        func process(_ record: InputRecord, context: WorkerContext) async throws -> [OutputRecord] {
            let value = String(decoding: record.value ?? [], as: UTF8.self)
            let isNew = try seen.withLock { seen in
                guard seen[record.partition] != nil else { throw PermanentRecordError("partition state missing") }
                return seen[record.partition]!.insert(value).inserted
            }
            events.withLock { $0.append("processed \(value)") }
            guard isNew else { return [] }
            return [OutputRecord(topic: output, key: record.key, value: record.value, partition: record.partition)]
        }
    }

    @Test("partitionsAssigned rebuilds state from an output partition before any record of it runs")
    func assignedHookRunsFirstAndCanReadPartitions() async throws {
        let fixture = try WorkerFixture()
        // A previous run already published tx-1.
        _ = try await fixture.producer.send(ProducerRecord(topic: fixture.output, partition: 0, key: "c", value: "tx-1"))
        for value in ["tx-1", "tx-2", "tx-2"] { _ = try await fixture.send("c", value) }
        let worker = DedupWorker(
            name: fixture.workerName,
            inputTopics: [fixture.input],
            output: fixture.output
        )
        let service = WorkerService(worker: worker, configuration: fixture.configuration(), logger: KafkaTesting.logger)
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], logger: KafkaTesting.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await fixture.eventually("all three processed") {
                worker.events.withLock { $0.filter { $0.hasPrefix("processed") }.count } == 3
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let events = worker.events.withLock { $0 }
        #expect(events.first == "assigned 0 knowing 1", "the hook ran first and read the existing output")
        #expect(events.last == "revoked 1", "shutdown revokes after processing")
        let outputs = try await fixture.read(fixture.output, count: 2)
        #expect(outputs.map { String(decoding: $0.value ?? [], as: UTF8.self) } == ["tx-1", "tx-2"], "one output per value")
    }
}
