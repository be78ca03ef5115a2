import Foundation
import PurserJSON
import PurserKafka
import PurserSchema
import PurserTesting
import Testing

@testable import PurserCLI

/// `purser tail --trace`: one webhook's path through every topic, found by its trace id.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct TailTraceTests {
    let kafka: EmbeddedKafka
    let topics: TopicNames

    init() throws {
        let topics = TopicNames(prefix: KafkaTesting.uniqueName("trace") + ".")
        self.topics = topics
        var declared = Dictionary(uniqueKeysWithValues: TopicNames.Base.all.map { (topics.name($0), 2) })
        declared[topics.deadLetter(worker: TopicNames.Worker.depositCrediter)] = 1
        kafka = try KafkaTesting.startBroker(topics: declared)
    }

    private func event(_ topic: String, _ type: EventType, customer: String, trace: TraceParent) -> ProducerRecord {
        TestRecords.event(
            topic: topic,
            type: type,
            customer: customer,
            data: ["customerId": .string(customer)],
            traceparent: trace
        )
    }

    private func tail(_ arguments: [String]) async throws -> [CloudEventEnvelope] {
        try await OperatorRun.purser(
            ["tail"] + arguments + ["--brokers", kafka.bootstrapServers, "--json"],
            environment: ["TOPIC_PREFIX": topics.prefix]
        )
        .output.map { try CloudEventEnvelope(recordValue: Array($0.utf8)) }
    }

    @Test func aTraceIsFollowedThroughEveryTopicInPipelineOrder() async throws {
        let received = TraceParent.random()
        let updated = received.childSpan()
        let approved = updated.childSpan()
        let credited = approved.childSpan()
        let other = TraceParent.random()
        _ = try await TestRecords.send(
            [
                event(topics.webhooks, .webhookReceived, customer: "ada", trace: received),
                event(topics.webhooks, .webhookReceived, customer: "bob", trace: other),
                event(topics.transactions, .transactionUpdated, customer: "ada", trace: updated),
                event(topics.depositsApproved, .depositApproved, customer: "ada", trace: approved),
                event(topics.depositsCredited, .depositCredited, customer: "ada", trace: credited),
                event(topics.depositsCredited, .depositCredited, customer: "bob", trace: other.childSpan()),
            ],
            to: kafka
        )
        let traceID = try #require(received.traceID)

        let path = try await tail(["--trace", traceID])
        #expect(path.map(\.type) == [.webhookReceived, .transactionUpdated, .depositApproved, .depositCredited])
        #expect(path.map(\.traceparent) == [received, updated, approved, credited])
        #expect(path.allSatisfy { $0.subject == "ada" })

        // A whole traceparent names the same trace, with --all as without a topic.
        #expect(try await tail(["--all", "--trace", credited.rawValue]).map(\.traceparent) == path.map(\.traceparent))

        // With a topic: only that topic's events of the trace.
        let credits = try await tail([Base.depositsCredited, "--trace", traceID])
        #expect(credits.map(\.traceparent) == [credited])
    }

    @Test func aDeadLetterThatIsNoCloudEventIsFoundByItsTraceHeader() async throws {
        let trace = TraceParent.random()
        let letter = ProducerRecord(
            topic: topics.deadLetter(worker: TopicNames.Worker.depositCrediter),
            key: "ada",
            value: "{not json",
            headers: [KafkaHeader(key: "traceparent", value: trace.rawValue)]
        )
        _ = try await TestRecords.send([letter], to: kafka)
        let run = try await OperatorRun.purser(
            ["tail", "--trace", try #require(trace.traceID), "--brokers", kafka.bootstrapServers],
            environment: ["TOPIC_PREFIX": topics.prefix]
        )
        #expect(run.output.count == 1)
        #expect(run.output.first?.contains("not a CloudEvent") == true)
        #expect(run.output.first?.contains(topics.deadLetter(worker: TopicNames.Worker.depositCrediter)) == true)
    }

    @Test func aTraceThatIsNeitherIdNorTraceparentIsRefused() async throws {
        await #expect {
            try await OperatorRun.purser(["tail", "--trace", "abc", "--brokers", kafka.bootstrapServers])
        } throws: { error in
            PurserCommand.message(for: error).contains("--trace abc")
        }
    }

    private typealias Base = TopicNames.Base
}
