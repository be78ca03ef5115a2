/// `purser.deposit.approved` (internal): the customer policy decided a confirmed deposit may be
/// credited. It may arrive more than once; the deposit crediter turns it into exactly one
/// `deposit.credited`.
///
/// Id: deterministic from the transaction id: one decision per transaction.
public struct DepositApproved: EventData {
    public static let eventType = EventType.depositApproved
    public static let summary = "A confirmed deposit the customer policy approved for crediting."

    /// Encoded flat, before the members below.
    public var deposit: DepositDetails
    public var confirmedAt: Timestamp
    public var approvedAt: Timestamp

    public init(deposit: DepositDetails, confirmedAt: Timestamp, approvedAt: Timestamp) {
        self.deposit = deposit
        self.confirmedAt = confirmedAt
        self.approvedAt = approvedAt
    }

    public static let fields: [FieldSchema] =
        DepositDetails.fields + [
            .required("confirmedAt", .timestamp, DepositDetails.confirmedAtSummary),
            .required("approvedAt", .timestamp, "When the customer policy approved the deposit."),
        ]

    public static let example = DepositApproved(
        deposit: .example,
        confirmedAt: Examples.confirmedAt,
        approvedAt: Examples.decidedAt
    )

    public var subject: String? { deposit.customerId }
    public var idempotencyKey: String? { deposit.transactionId }

    private enum CodingKeys: String, CodingKey {
        case confirmedAt, approvedAt
    }

    public init(from decoder: any Decoder) throws {
        deposit = try DepositDetails(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        confirmedAt = try container.decode(Timestamp.self, forKey: .confirmedAt)
        approvedAt = try container.decode(Timestamp.self, forKey: .approvedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        try deposit.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(confirmedAt, forKey: .confirmedAt)
        try container.encode(approvedAt, forKey: .approvedAt)
    }
}
