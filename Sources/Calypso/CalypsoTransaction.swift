import PurserJSON
import PurserSchema

/// A deposit to a customer purse (Calypso's `PGTransactionDTO`).
///
/// `amount` carries exactly the digits Calypso sent as a JSON number. `customerId`, `purseId`
/// and `address` are not in Calypso's documented schema; they are read when present.
public struct CalypsoTransaction: Codable, Hashable, Sendable {
    public var id: String
    public var amount: DecimalAmount
    public var currency: String
    public var addressFrom: String?
    public var transactionHash: String?
    public var transactionState: TransactionState
    public var complianceState: ComplianceState
    public var translationToAccountCompleted: Bool
    public var createdDate: String
    public var customerId: String?
    public var purseId: String?
    public var address: String?

    public init(
        id: String,
        amount: DecimalAmount,
        currency: String,
        addressFrom: String? = nil,
        transactionHash: String? = nil,
        transactionState: TransactionState,
        complianceState: ComplianceState,
        translationToAccountCompleted: Bool,
        createdDate: String,
        customerId: String? = nil,
        purseId: String? = nil,
        address: String? = nil
    ) {
        self.id = id
        self.amount = amount
        self.currency = currency
        self.addressFrom = addressFrom
        self.transactionHash = transactionHash
        self.transactionState = transactionState
        self.complianceState = complianceState
        self.translationToAccountCompleted = translationToAccountCompleted
        self.createdDate = createdDate
        self.customerId = customerId
        self.purseId = purseId
        self.address = address
    }

    enum CodingKeys: String, CodingKey {
        case id, amount, currency, addressFrom, transactionHash, transactionState, complianceState
        case translationToAccountCompleted, createdDate, customerId, purseId, address
    }

    /// Writes `amount` as a JSON number with exactly its digits, as Calypso does.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(amount.jsonNumber, forKey: .amount)
        try container.encode(currency, forKey: .currency)
        try container.encodeIfPresent(addressFrom, forKey: .addressFrom)
        try container.encodeIfPresent(transactionHash, forKey: .transactionHash)
        try container.encode(transactionState, forKey: .transactionState)
        try container.encode(complianceState, forKey: .complianceState)
        try container.encode(translationToAccountCompleted, forKey: .translationToAccountCompleted)
        try container.encode(createdDate, forKey: .createdDate)
        try container.encodeIfPresent(customerId, forKey: .customerId)
        try container.encodeIfPresent(purseId, forKey: .purseId)
        try container.encodeIfPresent(address, forKey: .address)
    }
}

extension TransactionState {
    /// Whether the state can no longer change (``confirmed`` or ``declined``).
    public var isTerminal: Bool { self == .confirmed || self == .declined }
}

/// The filters and page of a `transaction/find` call. `nil` fields are left out.
public struct CalypsoTransactionQuery: Codable, Hashable, Sendable {
    /// Matches a string field: `equals`, `in`, `notIn`, …; `nil` members are left out.
    public struct Filter: Codable, Hashable, Sendable {
        public var equals: String?
        public var notEquals: String?
        public var specified: Bool?
        public var `in`: [String]?
        public var notIn: [String]?

        public init(
            equals: String? = nil,
            notEquals: String? = nil,
            specified: Bool? = nil,
            in values: [String]? = nil,
            notIn: [String]? = nil
        ) {
            self.equals = equals
            self.notEquals = notEquals
            self.specified = specified
            self.in = values
            self.notIn = notIn
        }

        /// Whether `value` passes the filter (every member given must hold).
        public func matches(_ value: String?) -> Bool {
            if let specified, specified != (value != nil) { return false }
            if let equals, value != equals { return false }
            if let notEquals, value == notEquals { return false }
            if let values = self.in, !values.contains(where: { $0 == value }) { return false }
            if let notIn, notIn.contains(where: { $0 == value }) { return false }
            return true
        }
    }

    public var customerId: String?
    public var currencyFilter: Filter?
    public var transactionStateFilter: Filter?
    /// Zero-based page number (Calypso does not document the base; the sandbox counts from 0).
    public var pageNumber: Int?
    public var pageSize: Int?
    /// `ASC` or `DESC`.
    public var sort: String?
    /// The field to sort by, e.g. `createdDate`.
    public var properties: String?

    public init(
        customerId: String? = nil,
        currencyFilter: Filter? = nil,
        transactionStateFilter: Filter? = nil,
        pageNumber: Int? = nil,
        pageSize: Int? = nil,
        sort: String? = nil,
        properties: String? = nil
    ) {
        self.customerId = customerId
        self.currencyFilter = currencyFilter
        self.transactionStateFilter = transactionStateFilter
        self.pageNumber = pageNumber
        self.pageSize = pageSize
        self.sort = sort
        self.properties = properties
    }
}

/// One page of `transaction/find`. `total` is the number of pages, `totalElements` of items.
public struct CalypsoTransactionPage: Codable, Hashable, Sendable {
    public var result: [CalypsoTransaction]
    public var page: Int
    public var size: Int
    public var total: Int
    public var totalElements: Int

    public init(result: [CalypsoTransaction], page: Int, size: Int, total: Int, totalElements: Int) {
        self.result = result
        self.page = page
        self.size = size
        self.total = total
        self.totalElements = totalElements
    }
}
