import PurserSchema

extension WebhookEventType {
    /// The `service` value of customer-purse webhooks.
    public static let customerPurseService = "CUSTOMER_PURSE"
}

/// A webhook subscription (Calypso's `WebhookChannelDTO`). Its `publicKey`/`secretKey` pair
/// signs deliveries; it is not the merchant's API pair.
public struct CalypsoWebhookSubscription: Codable, Hashable, Sendable {
    /// Chosen by the caller at creation; identifies the subscription and is sent in every delivery.
    public var requestId: String
    public var url: String
    public var notificationEventTypes: [String]?
    public var notificationServiceTypes: [String]?
    public var publicKey: String
    public var secretKey: String
    public var createdDate: String?
    /// Whether Calypso stopped delivering after too many failures.
    public var blockedByErrorCount: Bool?

    public init(
        requestId: String,
        url: String,
        notificationEventTypes: [String]? = nil,
        notificationServiceTypes: [String]? = nil,
        publicKey: String,
        secretKey: String,
        createdDate: String? = nil,
        blockedByErrorCount: Bool? = nil
    ) {
        self.requestId = requestId
        self.url = url
        self.notificationEventTypes = notificationEventTypes
        self.notificationServiceTypes = notificationServiceTypes
        self.publicKey = publicKey
        self.secretKey = secretKey
        self.createdDate = createdDate
        self.blockedByErrorCount = blockedByErrorCount
    }

    /// The pair that signs this subscription's deliveries.
    public var keyPair: CalypsoKeyPair { CalypsoKeyPair(key: publicKey, secret: secretKey) }
}

/// What `subscription/webhook/create` takes.
public struct CalypsoSubscriptionRequest: Codable, Hashable, Sendable {
    public var requestId: String
    public var url: String
    public var notificationEventTypes: [String]
    public var notificationServiceTypes: [String]

    /// Subscribes to the six customer-purse events one by one, the form Calypso documents.
    public init(
        requestId: String,
        url: String,
        notificationEventTypes: [String] = WebhookEventType.knownValues.map(\.rawValue),
        notificationServiceTypes: [String] = []
    ) {
        self.requestId = requestId
        self.url = url
        self.notificationEventTypes = notificationEventTypes
        self.notificationServiceTypes = notificationServiceTypes
    }

    enum CodingKeys: String, CodingKey { case requestId, url, notificationEventTypes, notificationServiceTypes }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        requestId = try container.decode(String.self, forKey: .requestId)
        url = try container.decode(String.self, forKey: .url)
        notificationEventTypes = try container.decodeIfPresent([String].self, forKey: .notificationEventTypes) ?? []
        notificationServiceTypes = try container.decodeIfPresent([String].self, forKey: .notificationServiceTypes) ?? []
    }
}
