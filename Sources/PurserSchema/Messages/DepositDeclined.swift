/// `deposit.declined` (public): Calypso's compliance check declined a deposit; the purse is
/// blocked and the customer is not credited.
///
/// Id: deterministic from ``transactionId``: one decision per transaction.
public struct DepositDeclined: EventData {
    public static let eventType = EventType.depositDeclined
    public static let summary = "A deposit Calypso's compliance check declined; nothing is credited."

    public var transactionId: String
    public var customerId: String
    public var purseId: String
    public var address: String
    public var currency: String
    public var amount: DecimalAmount
    public var complianceState: ComplianceState
    public var declinedAt: Timestamp

    public init(
        transactionId: String,
        customerId: String,
        purseId: String,
        address: String,
        currency: String,
        amount: DecimalAmount,
        complianceState: ComplianceState,
        declinedAt: Timestamp
    ) {
        self.transactionId = transactionId
        self.customerId = customerId
        self.purseId = purseId
        self.address = address
        self.currency = currency
        self.amount = amount
        self.complianceState = complianceState
        self.declinedAt = declinedAt
    }

    public static let fields: [FieldSchema] =
        Array(DepositDetails.fields.prefix(6)) + [
            .required("complianceState", .choice(ComplianceState.self), "Calypso complianceState, DECLINE."),
            .required("declinedAt", .timestamp, "When Purser decided the deposit is declined."),
        ]

    public static let example = DepositDeclined(
        transactionId: Examples.transactionId,
        customerId: Examples.customerId,
        purseId: Examples.purseId,
        address: Examples.address,
        currency: Examples.currency,
        amount: Examples.amount,
        complianceState: .decline,
        declinedAt: Examples.decidedAt
    )

    public var subject: String? { customerId }
    public var idempotencyKey: String? { transactionId }
}
