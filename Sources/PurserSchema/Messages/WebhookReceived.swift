import PurserJSON

/// `calypso.webhook.received`: a Calypso webhook whose signature ingest verified, as received.
///
/// Id: deterministic from the Calypso event `id` (``eventId``), so a redelivered webhook gets the
/// same event id.
public struct WebhookReceived: EventData {
    public static let eventType = EventType.webhookReceived
    public static let summary = "A Calypso customer-purse webhook whose signature was verified, as received."

    /// Calypso's event `id`, its exact digits.
    public var eventId: String
    public var eventType: WebhookEventType
    /// Calypso's `requestId`: the subscription, the same in every delivery.
    public var subscriptionId: String
    /// Calypso's `createdDate` exactly as sent (no zone, variable fraction).
    public var createdDate: String
    public var level: WebhookLevel?
    public var service: String?
    public var receivedAt: Timestamp
    /// The `Key` header: which webhook key signed the delivery.
    public var keyId: String
    /// The webhook's `data` object exactly as received: unknown members and number digits kept.
    public var payload: JSONValue

    public init(
        eventId: String,
        eventType: WebhookEventType,
        subscriptionId: String,
        createdDate: String,
        level: WebhookLevel?,
        service: String?,
        receivedAt: Timestamp,
        keyId: String,
        payload: JSONValue
    ) {
        self.eventId = eventId
        self.eventType = eventType
        self.subscriptionId = subscriptionId
        self.createdDate = createdDate
        self.level = level
        self.service = service
        self.receivedAt = receivedAt
        self.keyId = keyId
        self.payload = payload
    }

    public static let fields: [FieldSchema] = [
        .required("eventId", .string, "Calypso's event id (its `id`), exact digits as a string."),
        .required("eventType", .choice(WebhookEventType.self), "Calypso's eventType; unknown types are kept."),
        .required("subscriptionId", .string, "Calypso's requestId: the webhook subscription."),
        .required("createdDate", .string, "Calypso's createdDate exactly as sent (no zone)."),
        .optional("level", .choice(WebhookLevel.self), "Calypso's level."),
        .optional("service", .string, "Calypso's service, e.g. CUSTOMER_PURSE."),
        .required("receivedAt", .timestamp, "When ingest received the webhook."),
        .required("keyId", .string, "The Key header: the webhook public key that signed it."),
        .required("payload", .object, "The webhook's data object exactly as received."),
    ]

    public static let example = WebhookReceived(
        eventId: "1331293",
        eventType: .fundsReceived,
        subscriptionId: "a381f753-3079-4214-9720-b416fc35ca10",
        createdDate: "2025-10-30T14:08:39.96068",
        level: .info,
        service: "CUSTOMER_PURSE",
        receivedAt: Timestamp(millisecondsSince1970: 1_761_833_319_987),
        keyId: "c529e14832b34b74972365cf7bf02430",
        payload: [
            "currency": "USDT_BSC", "customerId": "3f1c7d2e-8a4b-4c6d-9e0f-1a2b3c4d5e6f",
            "customerBlocked": false, "purseId": "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "address": "0x52908400098527886e0f7030069857d2e4169ee7",
            "transactionId": "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "amount": .number("0.123456789012345678"),
        ]
    )

    /// The payload's `customerId`, when it has one (a string or, tolerated, a number).
    public var subject: String? {
        payload["customerId"].flatMap { $0.stringValue ?? $0.numberLiteral }
    }

    public var idempotencyKey: String? { eventId }
}
