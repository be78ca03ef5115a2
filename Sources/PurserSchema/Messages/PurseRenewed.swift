/// `purse.renewed` (public): a customer's purse expired and Purser obtained the new deposit
/// address.
///
/// Id: deterministic from ``expiredPurseId``: one renewal per expired purse.
public struct PurseRenewed: EventData {
    public static let eventType = EventType.purseRenewed
    public static let summary = "A customer's deposit purse expired and was replaced by a new address."

    public var customerId: String
    public var currency: String
    public var expiredPurseId: String
    public var expiredAddress: String
    public var purseId: String
    public var address: String
    public var renewedAt: Timestamp

    public init(
        customerId: String,
        currency: String,
        expiredPurseId: String,
        expiredAddress: String,
        purseId: String,
        address: String,
        renewedAt: Timestamp
    ) {
        self.customerId = customerId
        self.currency = currency
        self.expiredPurseId = expiredPurseId
        self.expiredAddress = expiredAddress
        self.purseId = purseId
        self.address = address
        self.renewedAt = renewedAt
    }

    public static let fields: [FieldSchema] = [
        .required("customerId", .string, "Calypso customer id."),
        .required("currency", .string, "Calypso currency code the new address is for."),
        .required("expiredPurseId", .string, "Id of the purse that expired."),
        .required("expiredAddress", .string, "Address of the purse that expired; do not show it any more."),
        .required("purseId", .string, "Id of the new purse."),
        .required("address", .string, "The customer's new deposit address."),
        .required("renewedAt", .timestamp, "When Purser obtained the new address."),
    ]

    public static let example = PurseRenewed(
        customerId: Examples.customerId,
        currency: Examples.currency,
        expiredPurseId: Examples.purseId,
        expiredAddress: Examples.address,
        purseId: "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
        address: "0x6b175474e89094c44da98b954eedeac495271d0f",
        renewedAt: Examples.decidedAt
    )

    public var subject: String? { customerId }
    public var idempotencyKey: String? { expiredPurseId }
}
