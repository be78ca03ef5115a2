import PurserKafka
import PurserTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(2)))
struct BrokerFaultTests {
    @Test("broker down: a send fails with a typed error within its timeout; broker back: sends succeed")
    func brokerDownAndBack() async throws {
        let topic = KafkaTesting.uniqueName("outage")
        let kafka = try KafkaTesting.startBroker(brokers: 3, topics: [topic: 3])
        var configuration = KafkaTesting.producerConfiguration(kafka)
        configuration.messageTimeout = .seconds(3)
        let producer = try KafkaProducer(configuration: configuration, logger: KafkaTesting.logger)
        _ = try await producer.send(ProducerRecord(topic: topic, key: "k", value: "before"))

        try kafka.setBrokerDown()
        let started = ContinuousClock.now
        let error = try await #require(throws: KafkaError.self) {
            _ = try await producer.send(ProducerRecord(topic: topic, key: "k", value: "during"), timeout: .seconds(20))
        }
        #expect(error.code == .messageTimedOut)
        #expect(error.persistence == .notPersisted)
        #expect(error.isBrokerUnavailable && error.isRetriable)
        #expect(ContinuousClock.now - started < .seconds(15), "failed by message.timeout.ms, not by the test's deadline")

        try kafka.setBrokerUp()
        let report = try await producer.send(ProducerRecord(topic: topic, key: "k", value: "after"), timeout: .seconds(20))
        let consumer = try KafkaConsumer(configuration: KafkaTesting.consumerConfiguration(kafka, groupID: nil), logger: KafkaTesting.logger)
        try consumer.assign([TopicPartitionOffset(topic, report.partition, offset: TopicPartitionOffset.beginning)])
        let records = try await KafkaTesting.collect(2, from: consumer)
        #expect(records.map { String(decoding: $0.value ?? [], as: UTF8.self) } == ["before", "after"], "the failed record was not written")
        await consumer.shutdown()
        await producer.shutdown()
    }

    @Test("injected produce errors are retried by the idempotent producer without duplicates")
    func retriedProduceErrors() async throws {
        let topic = KafkaTesting.uniqueName("retries")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 1])
        let producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        kafka.pushRequestErrors(
            .produce,
            [KafkaError.Code(rawValue: 6), KafkaError.Code(rawValue: 19), .transport, KafkaError.Code(rawValue: 7)]
        )  // NOT_LEADER_FOR_PARTITION, NOT_ENOUGH_REPLICAS, a dropped connection, REQUEST_TIMED_OUT
        let reports = try await withThrowingTaskGroup(of: DeliveryReport.self) { group in
            for index in 0..<200 {
                group.addTask { try await producer.send(ProducerRecord(topic: topic, key: "k\(index % 7)", value: "\(index)")) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(reports.map(\.offset)) == Set(0..<200))
        let admin = try KafkaAdmin(options: KafkaClientOptions(bootstrapServers: kafka.brokers), logger: KafkaTesting.logger)
        #expect(try await admin.watermarks(TopicPartition(topic, 0)).high == 200)
        await producer.shutdown()
    }

    /// A producer that has delivered one record (so it is connected), then a broker answering after `roundTrip`.
    private func connectedProducerOnSlowBroker(roundTrip: Duration) async throws -> (EmbeddedKafka, KafkaProducer, String) {
        let topic = KafkaTesting.uniqueName("slow")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 1])
        let producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        _ = try await producer.send(ProducerRecord(topic: topic, key: "k", value: "warm-up"))
        try kafka.setRoundTripTime(roundTrip)
        return (kafka, producer, topic)
    }

    @Test("a send waiting for a slow broker can be abandoned by its deadline")
    func swiftDeadline() async throws {
        let (kafka, producer, topic) = try await connectedProducerOnSlowBroker(roundTrip: .seconds(2))
        let error = try await #require(throws: KafkaError.self) {
            _ = try await producer.send(ProducerRecord(topic: topic, key: "k", value: "slow"), timeout: .milliseconds(300))
        }
        #expect(error.code == .timedOut)
        #expect(error.persistence == .possiblyPersisted)
        try kafka.setRoundTripTime(.zero)
        await producer.shutdown()
    }

    @Test("hundreds of sends with mixed deadlines on a slow broker each give up by its own deadline")
    func manySwiftDeadlines() async throws {
        let (kafka, producer, topic) = try await connectedProducerOnSlowBroker(roundTrip: .seconds(3))
        let timeouts: [Duration] = (0..<300).map { $0.isMultiple(of: 3) ? .milliseconds(700) : .milliseconds(300) }
        let outcomes = await withTaskGroup(of: (Duration, Duration, KafkaError.Code?).self) { group in
            for (index, timeout) in timeouts.enumerated() {
                group.addTask {
                    let start = ContinuousClock.now
                    do {
                        _ = try await producer.send(ProducerRecord(topic: topic, key: "k\(index)", value: "slow"), timeout: timeout)
                        return (timeout, start.duration(to: .now), nil)
                    } catch {
                        return (timeout, start.duration(to: .now), (error as? KafkaError)?.code)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == timeouts.count)
        // Timed out (the broker answers only after 3 s), and never before its own deadline.
        for (timeout, waited, code) in outcomes {
            #expect(code == .timedOut)
            #expect(waited >= timeout)
        }
        try kafka.setRoundTripTime(.zero)
        let report = try await producer.send(ProducerRecord(topic: topic, key: "k", value: "after"), timeout: .seconds(20))
        #expect(report.offset >= 1)
        await producer.shutdown()
    }
}
