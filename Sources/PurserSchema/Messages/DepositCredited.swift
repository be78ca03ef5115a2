/// `deposit.credited` (public): credit the customer; published exactly once per Calypso
/// transaction.
///
/// Id: deterministic from the transaction id.
public struct DepositCredited: EventData {
    public static let eventType = EventType.depositCredited
    public static let summary = "A confirmed deposit to credit to the customer; exactly one per Calypso transaction."

    /// Encoded flat, before the members below.
    public var deposit: DepositDetails
    public var confirmedAt: Timestamp
    public var creditedAt: Timestamp
    /// The merchant's Calypso account the funds arrived in.
    public var account: String

    public init(deposit: DepositDetails, confirmedAt: Timestamp, creditedAt: Timestamp, account: String) {
        self.deposit = deposit
        self.confirmedAt = confirmedAt
        self.creditedAt = creditedAt
        self.account = account
    }

    public static let fields: [FieldSchema] =
        DepositDetails.fields + [
            .required("confirmedAt", .timestamp, DepositDetails.confirmedAtSummary),
            .required("creditedAt", .timestamp, "When Purser credited the deposit."),
            .required("account", .string, "The merchant's Calypso account the funds arrived in."),
        ]

    public static let example = DepositCredited(
        deposit: .example,
        confirmedAt: Examples.confirmedAt,
        creditedAt: Examples.decidedAt,
        account: Examples.account
    )

    public var subject: String? { deposit.customerId }
    public var idempotencyKey: String? { deposit.transactionId }

    private enum CodingKeys: String, CodingKey {
        case confirmedAt, creditedAt, account
    }

    public init(from decoder: any Decoder) throws {
        deposit = try DepositDetails(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        confirmedAt = try container.decode(Timestamp.self, forKey: .confirmedAt)
        creditedAt = try container.decode(Timestamp.self, forKey: .creditedAt)
        account = try container.decode(String.self, forKey: .account)
    }

    public func encode(to encoder: any Encoder) throws {
        try deposit.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(confirmedAt, forKey: .confirmedAt)
        try container.encode(creditedAt, forKey: .creditedAt)
        try container.encode(account, forKey: .account)
    }
}
