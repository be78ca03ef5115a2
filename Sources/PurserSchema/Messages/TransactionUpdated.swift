/// `purser.transaction.updated`: the state of one Calypso purse transaction after a webhook, as
/// the API confirmed it (terminal events) or as the webhook told it (non-terminal events).
///
/// Id: deterministic from ``webhookEventId``: one event per webhook event.
public struct TransactionUpdated: EventData {
    public static let eventType = EventType.transactionUpdated
    public static let summary =
        "The state of a Calypso purse transaction after a webhook, verified by the API or the webhook."

    public var transactionId: String
    public var customerId: String
    public var purseId: String
    public var address: String
    public var currency: String
    public var amount: DecimalAmount
    public var transactionHash: String?
    public var addressFrom: String?
    public var transactionState: TransactionState
    public var complianceState: ComplianceState
    public var translationToAccountCompleted: Bool
    /// Calypso's `createdDate` exactly as sent.
    public var createdDate: String
    public var customerBlocked: Bool
    public var verifiedBy: VerificationSource
    /// The `eventId` of the `calypso.webhook.received` this update comes from.
    public var webhookEventId: String

    public init(
        transactionId: String,
        customerId: String,
        purseId: String,
        address: String,
        currency: String,
        amount: DecimalAmount,
        transactionHash: String?,
        addressFrom: String?,
        transactionState: TransactionState,
        complianceState: ComplianceState,
        translationToAccountCompleted: Bool,
        createdDate: String,
        customerBlocked: Bool,
        verifiedBy: VerificationSource,
        webhookEventId: String
    ) {
        self.transactionId = transactionId
        self.customerId = customerId
        self.purseId = purseId
        self.address = address
        self.currency = currency
        self.amount = amount
        self.transactionHash = transactionHash
        self.addressFrom = addressFrom
        self.transactionState = transactionState
        self.complianceState = complianceState
        self.translationToAccountCompleted = translationToAccountCompleted
        self.createdDate = createdDate
        self.customerBlocked = customerBlocked
        self.verifiedBy = verifiedBy
        self.webhookEventId = webhookEventId
    }

    public static let fields: [FieldSchema] = [
        .required("transactionId", .string, "Calypso transaction id."),
        .required("customerId", .string, "Calypso customer id."),
        .required("purseId", .string, "Calypso purse id."),
        .required("address", .string, "The purse's deposit address."),
        .required("currency", .string, "Calypso currency code, e.g. USDT_BSC."),
        .required("amount", .decimalAmount, "Deposited amount, exactly as Calypso sent it."),
        .optional("transactionHash", .string, "Blockchain transaction hash, once known."),
        .optional("addressFrom", .string, "Sender address, once known."),
        .required("transactionState", .choice(TransactionState.self), "Calypso transactionState."),
        .required("complianceState", .choice(ComplianceState.self), "Calypso complianceState."),
        .required("translationToAccountCompleted", .boolean, "Whether the funds reached the merchant account."),
        .required("createdDate", .string, "Calypso's createdDate exactly as sent."),
        .required("customerBlocked", .boolean, "Whether Calypso reported the customer as blocked."),
        .required(
            "verifiedBy",
            .choice(VerificationSource.self),
            "api: confirmed with transaction/get; webhook: the webhook's view."
        ),
        .required("webhookEventId", .string, "eventId of the webhook this update comes from."),
    ]

    public static let example = TransactionUpdated(
        transactionId: Examples.transactionId,
        customerId: Examples.customerId,
        purseId: Examples.purseId,
        address: Examples.address,
        currency: Examples.currency,
        amount: Examples.amount,
        transactionHash: Examples.transactionHash,
        addressFrom: Examples.addressFrom,
        transactionState: .confirmed,
        complianceState: .checked,
        translationToAccountCompleted: false,
        createdDate: "2025-07-30T10:53:50.356Z",
        customerBlocked: false,
        verifiedBy: .api,
        webhookEventId: "1331293"
    )

    public var subject: String? { customerId }
    public var idempotencyKey: String? { webhookEventId }
}
