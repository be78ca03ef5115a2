import PurserKafka
import PurserTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(2)))
struct ProduceConsumeTests {
    @Test("records keep keys, headers and per-key order across 6 partitions")
    func roundTrip() async throws {
        let topic = KafkaTesting.uniqueName("round-trip")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 6])
        let producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        let customers = (0..<12).map { "customer-\($0)" }
        let perCustomer = 25

        // Send concurrently per customer, in order within each customer.
        let reports = try await withThrowingTaskGroup(of: [DeliveryReport].self) { group in
            for customer in customers {
                group.addTask {
                    var reports: [DeliveryReport] = []
                    for sequence in 0..<perCustomer {
                        let record = ProducerRecord(
                            topic: topic,
                            key: customer,
                            value: "\(customer)#\(sequence)",
                            headers: [
                                KafkaHeader(key: "content-type", value: "application/cloudevents+json"),
                                KafkaHeader(key: "sequence", value: String(sequence)),
                                KafkaHeader(key: "empty", value: nil),
                            ]
                        )
                        reports.append(try await producer.send(record))
                    }
                    return reports
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(reports.count == customers.count * perCustomer)
        #expect(Set(reports.map(\.partition)).count > 1, "keys spread over several partitions")

        let consumer = try KafkaConsumer(
            configuration: KafkaTesting.consumerConfiguration(kafka, groupID: KafkaTesting.uniqueName("group")),
            logger: KafkaTesting.logger
        )
        try consumer.subscribe(topics: [topic])
        let records = try await KafkaTesting.collect(reports.count, from: consumer)

        var partitionOfCustomer: [String: Int32] = [:]
        for customer in customers {
            let ofCustomer = records.filter { $0.key == Array(customer.utf8) }
            #expect(ofCustomer.map { String(decoding: $0.value ?? [], as: UTF8.self) } == (0..<perCustomer).map { "\(customer)#\($0)" })
            #expect(Set(ofCustomer.map(\.partition)).count == 1, "one customer, one partition")
            partitionOfCustomer[customer] = ofCustomer.first?.partition
        }
        let first = try #require(records.first)
        #expect(first.header("content-type") == "application/cloudevents+json")
        #expect(first.headers.map(\.key) == ["content-type", "sequence", "empty"])
        #expect(first.headers.last?.value == nil)
        #expect(first.timestampMilliseconds != nil)
        // Each report names the partition and offset the consumer read the record from.
        let consumedAt = Set(records.map { "\($0.partition)/\($0.offset)" })
        #expect(Set(reports.map { "\($0.partition)/\($0.offset)" }) == consumedAt)

        await consumer.shutdown()
        await producer.shutdown()
    }

    @Test("an explicit partition and a tombstone arrive as sent")
    func explicitPartitionAndTombstone() async throws {
        let topic = KafkaTesting.uniqueName("explicit")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 3])
        let producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        let report = try await producer.send(ProducerRecord(topic: topic, partition: 2, key: Array("k".utf8), value: nil))
        #expect(report.partition == 2)
        #expect(report.offset == 0)

        let consumer = try KafkaConsumer(
            configuration: KafkaTesting.consumerConfiguration(kafka, groupID: nil),
            logger: KafkaTesting.logger
        )
        try consumer.assign([TopicPartitionOffset(topic, 2, offset: TopicPartitionOffset.beginning)])
        let records = try await KafkaTesting.collect(1, from: consumer)
        #expect(records.first?.value == nil)
        #expect(records.first?.key == Array("k".utf8))
        await consumer.shutdown()
        await producer.shutdown()
    }

    @Test("after each seek the records come again from the sought offset: none lost, none from before it")
    func seekRedelivers() async throws {
        let topic = KafkaTesting.uniqueName("seek")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 1])
        let producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        _ = try await producer.send((0..<20).map { ProducerRecord(topic: topic, key: "k", value: "v\($0)") })
        // A short fetch wait brings the records after a seek back within one poll call.
        var configuration = KafkaTesting.consumerConfiguration(kafka, groupID: nil)
        configuration.fetchMaxWait = EmbeddedKafka.clientFetchMaxWait
        let consumer = try KafkaConsumer(configuration: configuration, logger: KafkaTesting.logger)
        try consumer.assign([TopicPartitionOffset(topic, 0, offset: TopicPartitionOffset.beginning)])
        #expect(try await KafkaTesting.collect(20, from: consumer).map(\.offset) == Array(0..<20))
        // Each seek lands while the poll thread waits inside librdkafka for more.
        for round in 0..<15 {
            let target = Int64(round % 5) * 3
            try await consumer.seek([TopicPartitionOffset(topic, 0, offset: target)])
            let again = try await KafkaTesting.collect(Int(20 - target), from: consumer, timeout: .seconds(15))
            #expect(again.map(\.offset) == Array(target..<20), "round \(round)")
        }
        await consumer.shutdown()
        await producer.shutdown()
    }

    @Test("the position is the next record the reader gets, not what was fetched ahead into the buffer")
    func positionFollowsTheReader() async throws {
        let topic = KafkaTesting.uniqueName("position")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 2])
        let producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        _ = try await producer.send((0..<200).map { ProducerRecord(topic: topic, partition: 0, key: "k", value: "v\($0)") })
        var configuration = KafkaTesting.consumerConfiguration(kafka, groupID: nil)
        configuration.fetchMaxWait = EmbeddedKafka.clientFetchMaxWait
        let consumer = try KafkaConsumer(configuration: configuration, logger: KafkaTesting.logger)
        let partitions = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        try consumer.assign(partitions.map { TopicPartitionOffset($0, offset: TopicPartitionOffset.beginning) })
        let read = try await KafkaTesting.collect(5, from: consumer)
        #expect(read.map(\.offset) == Array(0..<5))
        // Let the poll thread fetch the rest ahead of the reader.
        try await Task.sleep(for: .milliseconds(500))
        let positions = try await consumer.position(partitions)
        #expect(positions.first { $0.topicPartition.partition == 0 }?.offset == 5)
        #expect(try await KafkaTesting.collect(1, from: consumer).map(\.offset) == [5])
        await consumer.shutdown()
        await producer.shutdown()
    }

    @Test("sending to a topic the broker does not have fails with a typed error")
    func unknownTopic() async throws {
        let kafka = try KafkaTesting.startBroker()
        var configuration = KafkaTesting.producerConfiguration(kafka)
        configuration.client.additionalProperties["topic.metadata.propagation.max.ms"] = "500"
        let producer = try KafkaProducer(configuration: configuration, logger: KafkaTesting.logger)
        kafka.setTopicError("missing", .unknownTopicOrPartition)
        let error = await #expect(throws: KafkaError.self) {
            _ = try await producer.send(ProducerRecord(topic: "missing", key: "k", value: "v"), timeout: .seconds(15))
        }
        #expect(error?.code == .unknownTopicOrPartition || error?.code == .unknownTopic, "\(String(describing: error))")
        #expect(error?.persistence == .notPersisted)
        await producer.shutdown()
    }

    @Test("a batch send reports each record at its index, failures included")
    func batchSend() async throws {
        let topic = KafkaTesting.uniqueName("batch")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 2])
        let producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        let records = (0..<50).map { ProducerRecord(topic: topic, partition: Int32($0 % 2), key: "k", value: "\($0)") }
        let tooLarge = ProducerRecord(topic: topic, key: Array("k".utf8), value: [UInt8](repeating: 0, count: 2_000_000))
        let results = try await producer.send(records + [tooLarge])
        #expect(results.count == 51)
        let reports = try results.prefix(50).map { try $0.get() }
        #expect(reports.map(\.partition) == records.map { $0.partition! })
        #expect(reports.filter { $0.partition == 0 }.map(\.offset) == Array(0..<25))
        #expect(throws: KafkaError.self) { try results[50].get() }
        await producer.shutdown()
    }

    @Test("a bad property is rejected, naming it")
    func badProperty() throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:1"])
        configuration.client.additionalProperties["no.such.property"] = "1"
        let error = try #require(throws: KafkaError.self) {
            _ = try KafkaProducer(configuration: configuration, logger: KafkaTesting.logger)
        }
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.contains("no.such.property"))
    }
}
