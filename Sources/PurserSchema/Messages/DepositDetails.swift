/// What every deposit decision says about the Calypso transaction. ``DepositApproved``,
/// ``DepositCredited`` and ``DepositHeld`` carry these members flat in their `data`, followed by
/// their own.
public struct DepositDetails: Codable, Hashable, Sendable {
    public var transactionId: String
    public var customerId: String
    public var purseId: String
    public var address: String
    public var currency: String
    public var amount: DecimalAmount
    public var transactionHash: String?
    public var addressFrom: String?

    public init(
        transactionId: String,
        customerId: String,
        purseId: String,
        address: String,
        currency: String,
        amount: DecimalAmount,
        transactionHash: String?,
        addressFrom: String?
    ) {
        self.transactionId = transactionId
        self.customerId = customerId
        self.purseId = purseId
        self.address = address
        self.currency = currency
        self.amount = amount
        self.transactionHash = transactionHash
        self.addressFrom = addressFrom
    }

    /// The transaction's details as ``TransactionUpdated`` reports them.
    public init(_ transaction: TransactionUpdated) {
        self.init(
            transactionId: transaction.transactionId,
            customerId: transaction.customerId,
            purseId: transaction.purseId,
            address: transaction.address,
            currency: transaction.currency,
            amount: transaction.amount,
            transactionHash: transaction.transactionHash,
            addressFrom: transaction.addressFrom
        )
    }

    static let fields: [FieldSchema] = [
        .required("transactionId", .string, "Calypso transaction id; one event of this type per transaction."),
        .required("customerId", .string, "Calypso customer id."),
        .required("purseId", .string, "Calypso purse id."),
        .required("address", .string, "The deposit address."),
        .required("currency", .string, "Calypso currency code, e.g. USDT_BSC."),
        .required("amount", .decimalAmount, "Deposited amount, exactly as Calypso sent it."),
        .optional("transactionHash", .string, "Blockchain transaction hash."),
        .optional("addressFrom", .string, "Sender address."),
    ]

    static let confirmedAtSummary = "When Purser learned that Calypso confirmed the transaction."

    static let example = DepositDetails(TransactionUpdated.example)
}
