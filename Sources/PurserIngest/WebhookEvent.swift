import PurserJSON
import PurserKafka
import PurserSchema

/// The body is not a Calypso webhook envelope ingest can publish. Answers 400.
public struct WebhookEnvelopeError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// Turns a verified webhook into its `calypso.webhook.received` record.
///
/// The envelope is read leniently: unknown fields and event types are fine, and `data` is kept
/// exactly as received. What the event cannot do without is required: `id` (a number or a
/// string; it makes the event id), `eventType`, `requestId`, `createdDate`, and the `data` object.
/// The Kafka key is `data.customerId`, or the subscription id (`requestId`) when absent.
///
/// The result depends only on the ``SpoolRecord``, so a spooled webhook is published byte for
/// byte as it would have been at once.
enum WebhookEvent {
    static let source = "purser-ingest"

    static func prepare(_ webhook: SpoolRecord, topic: String) throws(WebhookEnvelopeError) -> PreparedWebhook {
        let envelope = try envelope(of: webhook.body)
        func required(_ name: String) throws(WebhookEnvelopeError) -> String {
            guard let value = envelope[name]?.stringValue, !value.isEmpty else {
                throw WebhookEnvelopeError(reason: "envelope has no \(name) string")
            }
            return value
        }
        guard let eventId = envelope["id"].flatMap({ $0.numberLiteral ?? $0.stringValue }), !eventId.isEmpty else {
            throw WebhookEnvelopeError(reason: "envelope has no id")
        }
        guard case .object(let payload)? = envelope["data"] else {
            throw WebhookEnvelopeError(reason: "envelope has no data object")
        }
        let receivedAt: Timestamp
        do {
            receivedAt = try Timestamp(rfc3339: webhook.receivedAt)
        } catch {
            throw WebhookEnvelopeError(reason: "receivedAt: \(error)")
        }
        let data = WebhookReceived(
            eventId: eventId,
            eventType: WebhookEventType(rawValue: try required("eventType")),
            subscriptionId: try required("requestId"),
            createdDate: try required("createdDate"),
            level: envelope["level"]?.stringValue.map(WebhookLevel.init(rawValue:)),
            service: envelope["service"]?.stringValue,
            receivedAt: receivedAt,
            keyId: webhook.keyId,
            payload: .object(payload)
        )
        let event = CloudEvent(
            data: data,
            source: source,
            time: receivedAt,
            traceparent: TraceParent(rawValue: webhook.traceparent)
        ).envelope().jsonValue
        // The event wraps `data` a level deeper than the webhook did; past the parser's limit no
        // reader could parse it, so it is refused here rather than dead-lettered downstream.
        guard event.nestingDepth <= JSONValue.maximumDepth else {
            throw WebhookEnvelopeError(
                reason: "data nests too deep: the event would nest \(event.nestingDepth) levels, "
                    + "readers accept \(JSONValue.maximumDepth)"
            )
        }
        let record = ProducerRecord(
            topic: topic,
            key: Array((data.subject ?? data.subscriptionId).utf8),
            value: event.serialized(),
            headers: [
                KafkaHeader(key: CloudEventEnvelope.contentTypeHeader, value: CloudEventEnvelope.contentType),
                KafkaHeader(key: "traceparent", value: webhook.traceparent),
            ]
        )
        return PreparedWebhook(eventId: eventId, eventType: data.eventType.rawValue, record: record)
    }

    private static func envelope(of body: [UInt8]) throws(WebhookEnvelopeError) -> JSONObject {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: body)
        } catch {
            throw WebhookEnvelopeError(reason: "body is not JSON: \(error)")
        }
        guard let envelope = json.objectValue else {
            throw WebhookEnvelopeError(reason: "body is a JSON \(json.typeName), not an object")
        }
        return envelope
    }
}
