import PurserJSON
import Testing

@testable import PurserSchema

/// Opens an existential message type so generic checks can run over ``MessageTypes/all``.
struct MessageTypeCase: CustomTestStringConvertible, Sendable {
    let type: any EventData.Type
    var testDescription: String { type.eventType.rawValue }
    static let all = MessageTypes.all.map(MessageTypeCase.init)
}

@Suite struct CloudEventTests {
    let trace = TraceParent(rawValue: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    let time = Timestamp(millisecondsSince1970: 1_764_064_800_123)

    @Test(arguments: MessageTypeCase.all)
    func everyMessageTypeRoundTripsThroughARecordValue(_ message: MessageTypeCase) throws {
        try roundTrip(message.type)
    }

    private func roundTrip<D: EventData>(_ type: D.Type) throws {
        let event = CloudEvent(data: D.example, source: "purser-test", time: time, traceparent: trace)
        let bytes = event.recordValue()
        let decoded = try CloudEvent<D>(recordValue: bytes)
        #expect(decoded == event)
        #expect(decoded.recordValue() == bytes)

        let json = try JSONValue(parsing: bytes)
        #expect(json["specversion"] == "1.0")
        #expect(json["type"] == .string(D.eventType.rawValue))
        #expect(json["source"] == "purser-test")
        #expect(json["time"] == "2025-11-25T10:00:00.123Z")
        #expect(json["datacontenttype"] == "application/json")
        #expect(json["dataschema"] == .string("topics/schemas/\(D.eventType.rawValue).json"))
        #expect(json["traceparent"] == .string(trace.rawValue))
        #expect(json["subject"] == D.example.subject.map(JSONValue.string))
        #expect(json.objectValue?.keys.last == "data")
    }

    @Test func theWebhookEventKeepsItsPayloadByteForByte() throws {
        let payload =
            #"{"zeta":1,"amount":1000000000.000000000000000001,"customerId":"c-1","nested":{"x":[1.10,null]}}"#
        var data = WebhookReceived.example
        data.payload = try JSONValue(parsing: payload)
        let bytes = CloudEvent(data: data, source: "purser-ingest", time: time, traceparent: trace).recordValue()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""payload":\#(payload)"#))
        let decoded = try CloudEvent<WebhookReceived>(recordValue: bytes)
        #expect(decoded.data.payload.jsonText == payload)
        #expect(decoded.subject == "c-1")
    }

    @Test func idsFollowEachTypesDocumentedRule() {
        func id<D: EventData>(_ data: D) -> String { CloudEvent(data: data, source: "s", traceparent: nil).id }
        #expect(id(WebhookReceived.example) == EventID.deterministic(type: .webhookReceived, key: "1331293"))
        #expect(
            id(DepositCredited.example) == EventID.deterministic(type: .depositCredited, key: Examples.transactionId)
        )
        #expect(id(DepositHeld.example) == EventID.deterministic(type: .depositHeld, key: Examples.transactionId))
        #expect(
            id(DepositDeclined.example) == EventID.deterministic(type: .depositDeclined, key: Examples.transactionId)
        )
        #expect(
            id(DepositApproved.example) == EventID.deterministic(type: .depositApproved, key: Examples.transactionId)
        )
        #expect(id(TransactionUpdated.example) == EventID.deterministic(type: .transactionUpdated, key: "1331293"))
        #expect(id(PurseRenewed.example) == EventID.deterministic(type: .purseRenewed, key: Examples.purseId))
        #expect(id(CustomerChanged.example) != id(CustomerChanged.example))
        // A redelivered credit made at another time keeps its id.
        var later = DepositCredited.example
        later.creditedAt = Timestamp(millisecondsSince1970: 1_800_000_000_000)
        #expect(id(later) == id(DepositCredited.example))
    }

    @Test func unknownMembersAttributesAndEnumValuesSurviveARoundTrip() throws {
        let record = """
            {"specversion":"1.0","id":"e-1","source":"elsewhere","type":"purser.transaction.updated",\
            "time":"2025-11-25T10:00:00.123+00:00","partitionkey":"c-1","data":{"transactionId":"t-1",\
            "customerId":"c-1","purseId":"p-1","address":"a","currency":"NEWCOIN","amount":12.5,\
            "transactionState":"REFUNDED","complianceState":"MANUAL_REVIEW","translationToAccountCompleted":false,\
            "createdDate":"2025-10-30T14:08:39.96068","customerBlocked":false,"verifiedBy":"oracle",\
            "webhookEventId":"7","riskScore":0.97,"tags":["x"]}}
            """
        let event = try CloudEvent<TransactionUpdated>(recordValue: Array(record.utf8))
        #expect(event.data.transactionState == "REFUNDED")
        #expect(!event.data.transactionState.isKnown)
        #expect(event.data.complianceState.rawValue == "MANUAL_REVIEW")
        #expect(event.data.verifiedBy.rawValue == "oracle")
        #expect(event.data.amount.text == "12.5")
        #expect(event.unknownDataFields == ["riskScore": .number("0.97"), "tags": ["x"]])
        #expect(event.extensions == ["partitionkey": "c-1"])
        #expect(event.subject == nil)

        let written = try JSONValue(parsing: event.recordValue())
        #expect(written["partitionkey"] == "c-1")
        #expect(written["data"]?["riskScore"] == .number("0.97"))
        #expect(written["data"]?["tags"] == ["x"])
        #expect(written["data"]?["transactionState"] == "REFUNDED")
        #expect(written["data"]?["amount"] == "12.5")
        #expect(written["time"] == "2025-11-25T10:00:00.123Z")
    }

    @Test func anUnknownEventTypeStillReadsAsAnEnvelope() throws {
        let record = #"{"specversion":"1.0","id":"x","source":"s","type":"loyalty.points.v9","data":{"a":1}}"#
        let envelope = try CloudEventEnvelope(recordValue: Array(record.utf8))
        #expect(envelope.type == "loyalty.points.v9")
        #expect(MessageTypes.dataType(of: envelope.type) == nil)
        #expect(String(decoding: envelope.recordValue(), as: UTF8.self) == record)
    }

    @Test(arguments: [
        ("{", "not JSON"),
        ("[]", "not a JSON object"),
        (#"{"id":"1","source":"s","type":"deposit.held"}"#, "specversion is missing"),
        (#"{"specversion":"0.3","id":"1","source":"s","type":"deposit.held"}"#, "specversion 0.3 is not supported"),
        (#"{"specversion":"1.0","source":"s","type":"deposit.held"}"#, "id is missing"),
        (#"{"specversion":"1.0","id":1,"source":"s","type":"deposit.held"}"#, "id is a number"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"deposit.held","time":"yesterday"}"#, "attribute time"),
    ])
    func malformedEnvelopesAreRejected(record: String, reason: String) {
        #expect {
            try CloudEventEnvelope(recordValue: Array(record.utf8))
        } throws: { error in
            (error as? CloudEventError)?.description.contains(reason) == true
        }
    }

    @Test func typedDecodingChecksTypeTimeAndData() throws {
        let held = CloudEvent(data: DepositHeld.example, source: "s", time: time, traceparent: nil)
        #expect(throws: CloudEventError(reason: "type deposit.held where deposit.credited was expected")) {
            try CloudEvent<DepositCredited>(recordValue: held.recordValue())
        }

        var envelope = held.envelope()
        var data = try #require(envelope.data?.objectValue)
        data["amount"] = "1e-3"
        envelope.data = .object(data)
        let badAmount = try #require(throws: CloudEventError.self) { try CloudEvent<DepositHeld>(envelope: envelope) }
        #expect(badAmount.reason.contains("member amount"))
        #expect(badAmount.reason.contains("\"1e-3\" is not a decimal amount"))

        envelope = held.envelope()
        envelope.data = ["transactionId": "t"]
        let missing = try #require(throws: CloudEventError.self) { try CloudEvent<DepositHeld>(envelope: envelope) }
        #expect(missing.reason.contains("is missing"))

        envelope = held.envelope()
        envelope.time = nil
        #expect(throws: CloudEventError(reason: "attribute time is missing")) {
            try CloudEvent<DepositHeld>(envelope: envelope)
        }
    }

    @Test func theKafkaHeaderMarksStructuredMode() {
        #expect(CloudEventEnvelope.contentTypeHeader == "content-type")
        #expect(CloudEventEnvelope.contentType == "application/cloudevents+json")
    }
}

@Suite struct TopicNamesTests {
    @Test func thePrefixIsPrependedToEveryName() {
        let names = TopicNames(environment: ["TOPIC_PREFIX": "prod."])
        #expect(names.webhooks == "prod.calypso.webhooks.v1")
        #expect(names.customers == "prod.purser.customers.v1")
        #expect(names.depositsCredited == "prod.deposits.credited.v1")
        #expect(names.deadLetter(worker: "deposit-crediter") == "prod.purser.dlq.deposit-crediter.v1")
        #expect(TopicNames().pursesRenewed == "purses.renewed.v1")
    }

    @Test func everyMessageTypeHasItsTopic() {
        let names = TopicNames(prefix: "p.")
        let topics = MessageTypes.all.compactMap { names.topic(for: $0.eventType) }
        #expect(topics == TopicNames.Base.all.map { "p." + $0 })
        #expect(names.topic(for: "something.else") == nil)
    }
}
