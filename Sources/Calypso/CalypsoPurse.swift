import PurserSchema

/// The answer of `address/get`: the customer's current purse for a currency and its deposit address.
public struct CalypsoPurseAddress: Codable, Hashable, Sendable {
    /// The purse id (`purseId` in webhooks).
    public var id: String
    public var address: String

    public init(id: String, address: String) {
        self.id = id
        self.address = address
    }
}

/// One purse of a customer, as listed by `purse/get-all`.
///
/// Calypso does not document this schema; every field but `id` and `address` is optional.
public struct CalypsoPurse: Codable, Hashable, Sendable {
    public var id: String
    public var address: String
    public var currency: String?
    public var status: CalypsoPurseStatus?
    public var createdDate: String?

    public init(
        id: String,
        address: String,
        currency: String? = nil,
        status: CalypsoPurseStatus? = nil,
        createdDate: String? = nil
    ) {
        self.id = id
        self.address = address
        self.currency = currency
        self.status = status
        self.createdDate = createdDate
    }
}

/// A purse's status. Unknown values are kept as sent.
public struct CalypsoPurseStatus: OpenEnumeration {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Active: accepts deposits for its customer.
    public static let pendingPayment: Self = "PENDING_PAYMENT"
    /// Inactive for its customer (expired). The older docs spell it ``archievedLegacy``.
    public static let archived: Self = "ARCHIVED"
    public static let archievedLegacy: Self = "ARCHIEVED"
    /// Blocked after illicit funds arrived.
    public static let declined: Self = "DECLINED"
    public static let knownValues: [Self] = [.pendingPayment, .archievedLegacy, .archived, .declined]

    /// Whether the purse is archived, under either spelling.
    public var isArchived: Bool { self == .archived || self == .archievedLegacy }
}
