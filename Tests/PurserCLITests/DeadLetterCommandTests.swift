import Foundation
import PurserJSON
import PurserKafka
import PurserRuntime
import PurserSchema
import PurserTesting
import Testing

@testable import PurserCLI

@Suite(.serialized) struct DeadLetterCommandTests {
    let kafka: EmbeddedKafka
    let prefix = KafkaTesting.uniqueName("dlq") + "."
    var environment: [String: String] { ["KAFKA_BROKERS": kafka.bootstrapServers, "TOPIC_PREFIX": prefix] }
    var approved: String { prefix + TopicNames.Base.depositsApproved }
    var deadLetters: String { prefix + TopicNames.Base.deadLetter(worker: "deposit-crediter") }

    init() throws {
        kafka = try KafkaTesting.startBroker()
        try kafka.createTopic(approved, partitions: 2)
        try kafka.createTopic(deadLetters, partitions: 1)
    }

    /// The original record as a worker consumed it, and its dead letter on the dead-letter topic.
    private func deadLetter(customer: String, offset: Int64, error: String, attempts: Int, topic: String? = nil) -> (
        original: ProducerRecord, dead: ProducerRecord
    ) {
        let topic = topic ?? approved
        let original = TestRecords.event(
            topic: topic,
            type: .depositApproved,
            customer: customer,
            data: ["customerId": .string(customer), "amount": "5", "currency": "USDT_TRC20"],
            headers: [KafkaHeader(key: "traceparent", value: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
        )
        let letter = DeadLetter(
            original: InputRecord(
                topic: topic,
                partition: 1,
                offset: offset,
                key: original.key,
                value: original.value,
                headers: original.headers.map { RecordHeader(name: $0.key, value: $0.value) }
            ),
            worker: "deposit-crediter",
            error: error,
            reason: .exhausted,
            attempts: attempts,
            time: Date()
        )
        let output = letter.record(topic: deadLetters)
        return (
            original,
            ProducerRecord(
                topic: output.topic,
                key: output.key,
                value: output.value,
                headers: output.headers.map { KafkaHeader(key: $0.name, value: $0.value) }
            )
        )
    }

    @Test(.timeLimit(.minutes(1)))
    func listAndShowExplainEachDeadLetter() async throws {
        let first = deadLetter(customer: "ada", offset: 7, error: "Calypso answered 503", attempts: 5)
        let second = deadLetter(customer: "bob", offset: 9, error: "amount has 19 fractional digits", attempts: 1)
        _ = try await TestRecords.send([first.dead, second.dead], to: kafka)

        let listed = try await OperatorRun.purser(
            ["dlq", "list", "--worker", "deposit-crediter", "--json"],
            environment: environment
        )
        let summaries = try JSONDecoder().decode([StoredDeadLetter.Summary].self, from: Data(listed.text.utf8))
        #expect(summaries.map(\.id) == ["0/0", "0/1"])
        #expect(summaries.map(\.error) == ["Calypso answered 503", "amount has 19 fractional digits"])
        #expect(summaries.map(\.attempts) == [5, 1])
        #expect(summaries.map(\.originTopic) == [approved, approved])
        #expect(summaries.map(\.originOffset) == [7, 9])
        #expect(summaries.map(\.key) == ["ada", "bob"])
        #expect(summaries.map(\.eventType) == ["purser.deposit.approved", "purser.deposit.approved"])

        let table = try await OperatorRun.purser(
            ["dlq", "list", "--worker", "deposit-crediter"],
            environment: environment
        ).output
        #expect(table.count == 3)
        #expect(table[1].contains("\(approved)/1/7") && table[1].contains("Calypso answered 503"))

        let shown = try await OperatorRun.purser(
            ["dlq", "show", "--worker", "deposit-crediter", "--id", "0/1"],
            environment: environment
        ).text
        #expect(shown.contains("error:     amount has 19 fractional digits"))
        #expect(shown.contains("origin:    \(approved)/1/9"))
        #expect(shown.contains("header:    traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
        #expect(!shown.contains("purser-dlq-"))
        #expect(!shown.contains("Calypso answered 503"))

        let later = try await OperatorRun.purser(
            ["dlq", "list", "--worker", "deposit-crediter", "--since", "2999-01-01T00:00:00Z", "--json"],
            environment: environment
        )
        #expect(try JSONDecoder().decode([StoredDeadLetter.Summary].self, from: Data(later.text.utf8)).isEmpty)
    }

    @Test func anUnknownWorkerIsRefused() async throws {
        await #expect {
            try await OperatorRun.purser(["dlq", "list", "--worker", "deposit-creditor"], environment: environment)
        } throws: { error in
            PurserCommand.message(for: error).contains("unknown worker \"deposit-creditor\"")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func redrivePublishesTheOriginalAgainAndReportsIt() async throws {
        let letter = deadLetter(customer: "ada", offset: 7, error: "Calypso answered 503", attempts: 5)
        let other = deadLetter(customer: "bob", offset: 8, error: "still failing", attempts: 5)
        _ = try await TestRecords.send([letter.dead, other.dead], to: kafka)
        let eventID = try CloudEventEnvelope(recordValue: #require(letter.original.value)).id

        var copies: [ConsumerRecord] = []
        for round in 1...2 {
            let run = try await OperatorRun.purser(
                ["dlq", "redrive", "--worker", "deposit-crediter", "--id", eventID, "--json"],
                environment: environment
            )
            let sent = try JSONDecoder().decode([DeadLetterRedrive.Sent].self, from: Data(run.text.utf8))
            #expect(sent.count == 1)
            #expect(sent.first?.id == "0/0")
            #expect(sent.first?.eventID == eventID)
            #expect(sent.first?.topic == approved)

            let admin = try KafkaAdmin(
                options: KafkaClientOptions(bootstrapServers: kafka.brokers),
                logger: KafkaTesting.logger
            )
            copies = []
            for partition in Int32(0)...1 {
                copies += try await admin.readPartition(TopicPartition(approved, partition))
            }
            #expect(copies.count == round)
        }
        // Each redrive is the same event: same key, value and id, so the idempotent workers credit once.
        for copy in copies {
            #expect(copy.key == letter.original.key)
            #expect(copy.value == letter.original.value)
            #expect(copy.headers == letter.original.headers)
        }
        let text = try await OperatorRun.purser(
            ["dlq", "redrive", "--worker", "deposit-crediter"],
            environment: environment
        ).output
        #expect(text.last == "redrove 2 dead letter(s) to \(approved)")
    }

    @Test(.timeLimit(.minutes(1)))
    func redriveRefusesUnknownIDsAndNamesWhatItSentBeforeAFailure() async throws {
        let first = deadLetter(customer: "ada", offset: 7, error: "Calypso answered 503", attempts: 5)
        let forbidden = prefix + "forbidden.v1"
        let orphan = deadLetter(customer: "bob", offset: 8, error: "still failing", attempts: 5, topic: forbidden)
        _ = try await TestRecords.send([first.dead, orphan.dead], to: kafka)
        kafka.setTopicError(forbidden, KafkaError.Code(rawValue: 29))  // TOPIC_AUTHORIZATION_FAILED

        await #expect {
            try await OperatorRun.purser(["dlq", "redrive", "--worker", "deposit-crediter", "--id", "0/0", "--id", "0/9"], environment: environment)
        } throws: { error in
            PurserCommand.message(for: error) == "no dead letter of deposit-crediter has the id 0/9 (see purser dlq list)"
        }
        // Writing to the second letter's topic is refused: the first was redriven, and the error says so.
        await #expect {
            try await OperatorRun.purser(["dlq", "redrive", "--worker", "deposit-crediter", "--json"], environment: environment)
        } throws: { error in
            PurserCommand.message(for: error).hasSuffix("; redriven before it: 0/0")
        }
        let admin = try KafkaAdmin(options: KafkaClientOptions(bootstrapServers: kafka.brokers), logger: KafkaTesting.logger)
        var copies: [ConsumerRecord] = []
        for partition in Int32(0)...1 { copies += try await admin.readPartition(TopicPartition(approved, partition)) }
        #expect(copies.map(\.value) == [first.original.value], "only the refused --id run published nothing")
    }
}
