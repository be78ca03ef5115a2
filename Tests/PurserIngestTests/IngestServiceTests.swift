import Calypso
import Foundation
import PurserIngest
import PurserJSON
import PurserKafka
import PurserSchema
import PurserTesting
import Testing

@Suite("Ingest service on the embedded broker", .serialized, .timeLimit(.minutes(3)))
struct IngestServiceTests {
    @Test("a valid webhook is answered 200 after exactly one record, keyed by customer, with the webhook as received")
    func validWebhook() async throws {
        let harness = try await IngestHarness(spoolDirectory: nil)
        let customerId = "3f1c7d2e-8a4b-4c6d-9e0f-1a2b3c4d5e6f"
        let body = Webhooks.body(id: 1_331_293, customerId: customerId)

        let answer = try await harness.post(body)
        #expect(answer.status == 200)
        #expect(try await harness.recordCount() == 1)

        let record = try #require(try await harness.readRecords(1).first)
        #expect(record.key == Array(customerId.utf8))
        #expect(record.header("content-type") == "application/cloudevents+json")
        let event = try CloudEvent<WebhookReceived>(recordValue: try #require(record.value))
        #expect(event.id == EventID.deterministic(type: .webhookReceived, key: "1331293"))
        #expect(event.type == .webhookReceived)
        #expect(event.source == "purser-ingest")
        #expect(event.subject == customerId)
        let traceparent = try #require(event.traceparent)
        #expect(traceparent.isValid)
        #expect(record.header("traceparent") == traceparent.rawValue)
        #expect(event.data.eventId == "1331293")
        #expect(event.data.eventType == .fundsReceived)
        #expect(event.data.subscriptionId == Webhooks.subscriptionId)
        #expect(event.data.createdDate == "2025-10-30T14:08:39.96068")
        #expect(event.data.level == .info)
        #expect(event.data.service == "CUSTOMER_PURSE")
        #expect(event.data.keyId == IngestHarness.keyPairs[0].key)
        #expect(abs(event.data.receivedAt.millisecondsSince1970 - Timestamp.now.millisecondsSince1970) < 60_000)

        // The payload is the webhook's `data` byte for byte: digits, unknown members and their order.
        let value = try JSONValue(parsing: try #require(record.value))
        let payload = try #require(value["data"]?["payload"])
        #expect(payload.serialized() == Array(Webhooks.data(customerId: customerId).utf8))
        try await harness.stop()
    }

    @Test("without a customerId the key is the subscription id; unknown event types are published")
    func subscriptionKeyAndUnknownType() async throws {
        let harness = try await IngestHarness(spoolDirectory: nil)
        let answer = try await harness.post(
            Webhooks.body(id: 7, customerId: nil, eventType: "CUSTOMER_PURSE_SOMETHING_NEW")
        )
        #expect(answer.status == 200)
        let record = try #require(try await harness.readRecords(1).first)
        #expect(record.key == Array(Webhooks.subscriptionId.utf8))
        let event = try CloudEvent<WebhookReceived>(recordValue: try #require(record.value))
        #expect(event.data.eventType.rawValue == "CUSTOMER_PURSE_SOMETHING_NEW")
        try await harness.stop()
    }

    @Test("every bad request gets its status and publishes nothing")
    func badRequests() async throws {
        let harness = try await IngestHarness(spoolDirectory: nil)
        let body = Webhooks.body(id: 42)
        let secret = IngestHarness.keyPairs[0].secret
        var tampered = body
        tampered[tampered.count - 3] = UInt8(ascii: "7")
        let truncated = Array(body.prefix(body.count - 10))
        let huge = Array(repeating: UInt8(ascii: " "), count: 1 << 20)

        let cases: [(String, IngestHarness.Answer, Int)] = [
            ("tampered body", try await harness.post(tampered, sign: CalypsoSignature.sign(body, secret: secret)), 401),
            ("unknown key", try await harness.post(body, key: "ffffffffffffffffffffffffffffffff"), 401),
            (
                "missing key",
                try await harness.post(body, key: nil, sign: CalypsoSignature.sign(body, secret: secret)), 401
            ),
            ("missing sign", try await harness.post(body, sign: ""), 401),
            ("truncated JSON", try await harness.post(truncated), 400),
            ("no eventType", try await harness.post(Webhooks.body(id: 43, eventType: nil)), 400),
            ("JSON array", try await harness.post(Array("[1,2]".utf8)), 400),
            ("1 MiB body", try await harness.post(huge), 413),
            ("1 MiB body, chunked", try await harness.post(huge, streamed: true), 413),
            ("text/plain", try await harness.post(body, contentType: "text/plain"), 415),
            ("no content type", try await harness.post(body, contentType: nil), 415),
        ]
        for (name, answer, status) in cases {
            #expect(answer.status == status, "\(name)")
        }
        let get = try await harness.get("/webhooks/calypso")
        #expect(get.status == 405)
        #expect(get.headers["allow"] == "POST")
        #expect(try await harness.recordCount() == 0)
        #expect(try await harness.metric(#"purser_ingest_requests_total{status="401"}"#) == 4)
        #expect(try await harness.metric(#"purser_ingest_requests_total{status="400"}"#) == 3)
        #expect(try await harness.post(body).status == 200)
        try await harness.stop()
    }

    @Test("a webhook nested as deep as its event stays readable is published; one level deeper is a 400")
    func nestingLimit() async throws {
        let harness = try await IngestHarness(spoolDirectory: nil)
        func body(id: Int, nestedArrays: Int) -> [UInt8] {
            let deep = String(repeating: "[", count: nestedArrays) + String(repeating: "]", count: nestedArrays)
            return Array(
                #"{"requestId":"r","id":\#(id),"createdDate":"c","eventType":"E","data":{"customerId":"c","deep":\#(deep)}}"#
                    .utf8
            )
        }
        // In the event the arrays sit under the event object, its `data` and `payload`.
        let deepest = JSONValue.maximumDepth - 3

        // The body itself is within the parser's limit, the event it would become is not.
        let tooDeep = body(id: 1, nestedArrays: deepest + 1)
        #expect(try JSONValue(parsing: tooDeep).nestingDepth == JSONValue.maximumDepth)
        #expect(try await harness.post(tooDeep).status == 400)
        #expect(try await harness.recordCount() == 0)

        #expect(try await harness.post(body(id: 2, nestedArrays: deepest)).status == 200)
        let record = try #require(try await harness.readRecords(1).first)
        let event = try CloudEventEnvelope(recordValue: try #require(record.value))
        #expect(event.data?["payload"]?["deep"]?.nestingDepth == deepest)
        #expect(try await harness.recordCount() == 1)
        try await harness.stop()
    }

    @Test("during a key rotation both key pairs are accepted, and the event names the key used")
    func keyRotation() async throws {
        let harness = try await IngestHarness(spoolDirectory: nil)
        let customerId = "rotation-customer"
        for (index, pair) in IngestHarness.keyPairs.enumerated() {
            #expect(
                try await harness.post(Webhooks.body(id: 100 + index, customerId: customerId), key: pair.key).status
                    == 200
            )
        }
        let records = try await harness.readRecords(2)
        let keyIds = try records.map { try CloudEvent<WebhookReceived>(recordValue: $0.value ?? []).data.keyId }
        #expect(Set(keyIds) == Set(IngestHarness.keyPairs.map(\.key)))
        try await harness.stop()
    }

    @Test("health, readiness and metrics answer")
    func healthAndMetrics() async throws {
        let harness = try await IngestHarness(spoolDirectory: nil)
        #expect(try await harness.get("/health/live").status == 200)
        #expect(try await harness.get("/health/ready").status == 200)
        #expect(try await harness.post(Webhooks.body(id: 1)).status == 200)
        let metrics = try await harness.get("/metrics")
        #expect(metrics.status == 200)
        #expect(try await harness.metric(#"purser_ingest_requests_total{status="200"}"#) == 1)
        #expect(try await harness.metric("purser_ingest_publish_duration_seconds_count") == 1)
        #expect(try await harness.metric("purser_ingest_spool_records") == 0)
        try await harness.stop()
    }

    @Test("broker down: 200 webhooks are all answered 200 from the spool; broker back: all in Kafka in order per key")
    func brokerOutage() async throws {
        let spool = try TemporaryDirectory()
        let harness = try await IngestHarness(spoolDirectory: spool.path)
        try harness.kafka.setBrokerDown()

        let customers = (0..<10).map { "customer-\($0)" }
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for (index, customer) in customers.enumerated() {
                group.addTask {
                    var statuses: [Int] = []
                    for sequence in 0..<20 {
                        let id = index * 1000 + sequence
                        statuses.append(try await harness.post(Webhooks.body(id: id, customerId: customer)).status)
                    }
                    return statuses
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(statuses.count == 200)
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(try await harness.metric("purser_ingest_spool_records").map { $0 > 0 } == true)

        try harness.kafka.setBrokerUp()
        let records = try await harness.readRecords(200, timeout: .seconds(60))
        #expect(records.count == 200)
        #expect(try await eventually { try await harness.metric("purser_ingest_spool_records") == 0 })
        #expect(try await harness.metric("purser_ingest_drained_records_total").map { $0 > 0 } == true)
        #expect(try await harness.recordCount() == 200)

        var idsByCustomer: [String: [Int]] = [:]
        for record in records {
            let event = try CloudEvent<WebhookReceived>(recordValue: record.value ?? [])
            idsByCustomer[String(decoding: record.key ?? [], as: UTF8.self), default: []].append(
                Int(event.data.eventId)!
            )
        }
        for (index, customer) in customers.enumerated() {
            #expect(idsByCustomer[customer] == (0..<20).map { index * 1000 + $0 }, "\(customer)")
        }
        try await harness.stop()
    }

    @Test("spooled webhooks survive a restart and are published by the next process")
    func spoolSurvivesRestart() async throws {
        let spool = try TemporaryDirectory()
        let topic = KafkaTesting.uniqueName("calypso.webhooks.v1")
        let kafka = try KafkaTesting.startBroker(topics: [topic: IngestHarness.partitions])
        try kafka.setBrokerDown()
        let first = try await IngestHarness(kafka: kafka, topic: topic, spoolDirectory: spool.path)
        for id in 0..<5 {
            #expect(try await first.post(Webhooks.body(id: id)).status == 200)
        }
        try await first.stop()

        try kafka.setBrokerUp()
        #expect(try await first.recordCount() == 0)
        let second = try await IngestHarness(kafka: kafka, topic: topic, spoolDirectory: spool.path)
        let records = try await second.readRecords(5)
        let ids = try records.map { try CloudEvent<WebhookReceived>(recordValue: $0.value ?? []).data.eventId }
        #expect(ids == (0..<5).map(String.init))
        #expect(try await eventually { try await second.metric("purser_ingest_spool_records") == 0 })
        try await second.stop()
    }

    @Test("graceful shutdown finishes a request in flight before the producer stops")
    func gracefulShutdown() async throws {
        let harness = try await IngestHarness(spoolDirectory: nil)
        #expect(try await harness.post(Webhooks.body(id: 1)).status == 200)
        try harness.kafka.setRoundTripTime(.milliseconds(800))
        let inFlight = Task { try await harness.post(Webhooks.body(id: 2)) }
        try await Task.sleep(for: .milliseconds(300))
        try await harness.stop()
        #expect(try await inFlight.value.status == 200)
        try harness.kafka.setRoundTripTime(.zero)
        #expect(try await harness.recordCount() == 2)
    }

    @Test("spool full or disabled: 503 with Retry-After, and nothing lost of what was answered 200")
    func spoolFullOrDisabled() async throws {
        let spool = try TemporaryDirectory()
        let full = try await IngestHarness(spoolDirectory: spool.path) { $0.spoolMaxBytes = 3000 }
        try full.kafka.setBrokerDown()
        var answers: [IngestHarness.Answer] = []
        for id in 0..<6 {
            answers.append(try await full.post(Webhooks.body(id: id)))
        }
        let accepted = answers.prefix { $0.status == 200 }.count
        #expect(accepted > 0)
        #expect(answers.dropFirst(accepted).allSatisfy { $0.status == 503 && $0.headers["retry-after"] == "5" })
        #expect(accepted < answers.count)
        try full.kafka.setBrokerUp()
        #expect(try await full.readRecords(accepted).count == accepted)
        try await full.stop()

        let disabled = try await IngestHarness(spoolDirectory: nil)
        try disabled.kafka.setBrokerDown()
        let answer = try await disabled.post(Webhooks.body(id: 1))
        #expect(answer.status == 503)
        #expect(answer.headers["retry-after"] == "5")
        #expect(try await disabled.get("/health/ready").status == 503)
        try disabled.kafka.setBrokerUp()
        try await disabled.stop()
    }
}
