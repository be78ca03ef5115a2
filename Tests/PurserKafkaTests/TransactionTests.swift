import PurserKafka
import PurserTesting
import Testing

/// Transactions on the embedded broker. What it shows faithfully: the call flow (init, begin, send,
/// send offsets with the consumer's group metadata, commit, abort), committed output records, and
/// how errors are classified. What it cannot show: it acknowledges TxnOffsetCommit without storing
/// the offsets (so the group's committed offset does not move), and it does not hide aborted records
/// from `read_committed` readers. Those guarantees need a real broker.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TransactionTests {
    struct Fixture {
        let kafka: EmbeddedKafka
        let input: String
        let output: String
        let producer: KafkaProducer
        let transactional: KafkaProducer
        let consumer: KafkaConsumer
        let admin: KafkaAdmin

        init() async throws {
            input = KafkaTesting.uniqueName("txn-in")
            output = KafkaTesting.uniqueName("txn-out")
            kafka = try KafkaTesting.startBroker(topics: [input: 1, output: 1])
            producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
            var configuration = KafkaTesting.producerConfiguration(kafka)
            configuration.transactionalID = KafkaTesting.uniqueName("txn")
            transactional = try KafkaProducer(configuration: configuration, logger: KafkaTesting.logger)
            var consumerConfiguration = KafkaTesting.consumerConfiguration(kafka, groupID: KafkaTesting.uniqueName("group"))
            consumerConfiguration.isAutoCommitEnabled = false
            consumerConfiguration.commitsOnRevoke = false
            consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: KafkaTesting.logger)
            admin = try KafkaAdmin(options: KafkaClientOptions(bootstrapServers: kafka.brokers), logger: KafkaTesting.logger)
            try await transactional.initTransactions()
        }

        func sendInputs(_ values: [String]) async throws {
            for value in values { _ = try await producer.send(ProducerRecord(topic: input, key: "customer", value: value)) }
        }

        /// One consume-transform-produce step: an upper-cased output per input, plus the input offsets.
        func transform(_ records: [ConsumerRecord]) async throws {
            try transactional.beginTransaction()
            for record in records {
                let value = String(decoding: record.value ?? [], as: UTF8.self).uppercased()
                _ = try await transactional.send(ProducerRecord(topic: output, key: "customer", value: value))
            }
            try await transactional.sendOffsetsToTransaction([records.last!.nextOffset], of: consumer)
        }

        func outputs() async throws -> [String] {
            try await admin.readPartition(TopicPartition(output, 0)).map { String(decoding: $0.value ?? [], as: UTF8.self) }
        }

        func shutdown() async {
            await consumer.shutdown()
            await transactional.shutdown()
            await producer.shutdown()
        }
    }

    @Test("consume-transform-produce: commit publishes the outputs; after abort the inputs are read again")
    func consumeTransformProduce() async throws {
        let fixture = try await Fixture()
        try fixture.consumer.subscribe(topics: [fixture.input])
        try await fixture.sendInputs(["a", "b", "c"])
        let batch = try await KafkaTesting.collect(3, from: fixture.consumer)
        try await fixture.transform(batch)
        try await fixture.transactional.commitTransaction()
        #expect(try await fixture.outputs() == ["A", "B", "C"])

        try await fixture.sendInputs(["d", "e"])
        let doomed = try await KafkaTesting.collect(2, from: fixture.consumer)
        try await fixture.transform(doomed)
        try await fixture.transactional.abortTransaction()

        // Rewind to the last committed transaction's position (3): the aborted inputs come again.
        try await fixture.consumer.seek([TopicPartitionOffset(fixture.input, 0, offset: 3)])
        let again = try await KafkaTesting.collect(2, from: fixture.consumer)
        #expect(again.map(\.offset) == [3, 4])
        #expect(again.map(\.value) == doomed.map(\.value))
        try await fixture.transform(again)
        try await fixture.transactional.commitTransaction()

        let outputs = try await fixture.outputs()
        #expect(Array(outputs.prefix(3)) == ["A", "B", "C"])
        #expect(Array(outputs.suffix(2)) == ["D", "E"])
        // A real broker hides the aborted "D", "E" from read_committed readers (5 records); the
        // embedded broker shows them (7).
        #expect(outputs.count == 5 || outputs.count == 7)
        await fixture.shutdown()
    }

    @Test("an abortable error asks for abort, and the producer goes on after it")
    func abortableError() async throws {
        let fixture = try await Fixture()
        try fixture.consumer.subscribe(topics: [fixture.input])
        try await fixture.sendInputs(["a"])
        let batch = try await KafkaTesting.collect(1, from: fixture.consumer)

        fixture.kafka.setTopicError(fixture.output, KafkaError.Code(rawValue: 29))  // TOPIC_AUTHORIZATION_FAILED
        try fixture.transactional.beginTransaction()
        #expect(fixture.transactional.outstandingCount == 0)
        let send = Task {
            try await fixture.transactional.send(ProducerRecord(topic: fixture.output, key: "customer", value: "A"))
        }
        // The send only returns once the transaction ends, so wait until librdkafka holds the record:
        // committing before that would commit an empty transaction, which has nothing to fail.
        try await KafkaTesting.eventually(timeout: .seconds(30)) { fixture.transactional.outstandingCount > 0 }
        let error = try await #require(throws: KafkaError.self) {
            try await fixture.transactional.commitTransaction()
        }
        #expect(error.isTxnRequiresAbort)
        #expect(!error.isFatal)
        try await fixture.transactional.abortTransaction()
        // The record was aborted with its transaction: its send fails.
        await #expect(throws: KafkaError.self) { try await send.value }

        fixture.kafka.setTopicError(fixture.output, .noError)
        try await fixture.transform(batch)
        try await fixture.transactional.commitTransaction()
        #expect(try await fixture.outputs() == ["A"])
        await fixture.shutdown()
    }

    @Test("records enqueued without waiting commit with their transaction; one the broker refuses fails the commit")
    func enqueuedRecordsAreSettledByTheCommit() async throws {
        let fixture = try await Fixture()
        try fixture.transactional.beginTransaction()
        for value in ["A", "B"] {
            try await fixture.transactional.enqueue(ProducerRecord(topic: fixture.output, key: "customer", value: value))
        }
        try await fixture.transactional.commitTransaction()
        #expect(try await fixture.outputs() == ["A", "B"])

        fixture.kafka.pushRequestErrors(.produce, [KafkaError.Code(rawValue: 10)])  // MESSAGE_TOO_LARGE
        try fixture.transactional.beginTransaction()
        try await fixture.transactional.enqueue(ProducerRecord(topic: fixture.output, key: "customer", value: "C"))
        let error = try await #require(throws: KafkaError.self) {
            try await fixture.transactional.commitTransaction()
        }
        #expect(error.isTxnRequiresAbort)
        try await fixture.transactional.abortTransaction()
        await fixture.shutdown()
    }

    @Test("a fenced producer gets a fatal, fenced error")
    func fenced() async throws {
        let fixture = try await Fixture()
        try fixture.consumer.subscribe(topics: [fixture.input])
        try await fixture.sendInputs(["a"])
        let batch = try await KafkaTesting.collect(1, from: fixture.consumer)
        try await fixture.transform(batch)
        fixture.kafka.pushRequestErrors(.endTxn, [.producerFenced])
        let error = try await #require(throws: KafkaError.self) {
            try await fixture.transactional.commitTransaction()
        }
        #expect(error.isFatal)
        #expect(error.isFenced)
        #expect(!error.isTxnRequiresAbort)
        await fixture.shutdown()
    }
}
