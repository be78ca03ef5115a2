/// `deposit.held` (public): a confirmed deposit of a blocked customer; Calypso took the funds into
/// the merchant account, but the customer is not credited.
///
/// Id: deterministic from the transaction id: one decision per transaction.
public struct DepositHeld: EventData {
    public static let eventType = EventType.depositHeld
    public static let summary = "A confirmed deposit not credited to the customer, with the reason."

    /// Encoded flat, before the members below.
    public var deposit: DepositDetails
    public var confirmedAt: Timestamp
    /// When Purser held the deposit (the funds are in the merchant account, not the customer's).
    public var creditedAt: Timestamp
    public var account: String
    public var reason: HoldReason

    public init(
        deposit: DepositDetails,
        confirmedAt: Timestamp,
        creditedAt: Timestamp,
        account: String,
        reason: HoldReason
    ) {
        self.deposit = deposit
        self.confirmedAt = confirmedAt
        self.creditedAt = creditedAt
        self.account = account
        self.reason = reason
    }

    public static let fields: [FieldSchema] =
        DepositDetails.fields + [
            .required("confirmedAt", .timestamp, DepositDetails.confirmedAtSummary),
            .required(
                "creditedAt",
                .timestamp,
                "When Purser held the deposit; the funds are in the merchant account only."
            ),
            .required("account", .string, "The merchant's Calypso account the funds arrived in."),
            .required("reason", .choice(HoldReason.self), "Why the customer is not credited."),
        ]

    public static let example = DepositHeld(
        deposit: .example,
        confirmedAt: Examples.confirmedAt,
        creditedAt: Examples.decidedAt,
        account: Examples.account,
        reason: .customerBlocked
    )

    public var subject: String? { deposit.customerId }
    public var idempotencyKey: String? { deposit.transactionId }

    private enum CodingKeys: String, CodingKey {
        case confirmedAt, creditedAt, account, reason
    }

    public init(from decoder: any Decoder) throws {
        deposit = try DepositDetails(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        confirmedAt = try container.decode(Timestamp.self, forKey: .confirmedAt)
        creditedAt = try container.decode(Timestamp.self, forKey: .creditedAt)
        account = try container.decode(String.self, forKey: .account)
        reason = try container.decode(HoldReason.self, forKey: .reason)
    }

    public func encode(to encoder: any Encoder) throws {
        try deposit.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(confirmedAt, forKey: .confirmedAt)
        try container.encode(creditedAt, forKey: .creditedAt)
        try container.encode(account, forKey: .account)
        try container.encode(reason, forKey: .reason)
    }
}
