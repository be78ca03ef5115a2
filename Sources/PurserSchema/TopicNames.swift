/// The Kafka topic names of a deployment: every name of the contract with ``prefix`` (the
/// `TOPIC_PREFIX` setting, e.g. `prod.`) prepended.
public struct TopicNames: Sendable, Hashable {
    /// Names without a prefix, as declared in `topics/`.
    public enum Base {
        public static let webhooks = "calypso.webhooks.v1"
        public static let transactions = "purser.transactions.v1"
        public static let customers = "purser.customers.v1"
        public static let depositsApproved = "purser.deposits.approved.v1"
        public static let depositsCredited = "deposits.credited.v1"
        public static let depositsHeld = "deposits.held.v1"
        public static let depositsDeclined = "deposits.declined.v1"
        public static let pursesRenewed = "purses.renewed.v1"
        /// Every topic of the contract except the dead-letter topics.
        public static let all = [
            webhooks, transactions, customers, depositsApproved, depositsCredited, depositsHeld, depositsDeclined,
            pursesRenewed,
        ]

        /// The dead-letter topic of `worker`: `purser.dlq.<worker>.v1`.
        public static func deadLetter(worker: String) -> String { "purser.dlq.\(worker).v1" }
    }

    /// The worker names that have a dead-letter topic, as in `purser.dlq.<worker>.v1`.
    public enum Worker {
        public static let transactionFetcher = "transaction-fetcher"
        public static let customerPolicy = "customer-policy"
        public static let purseRenewer = "purse-renewer"
        public static let depositCrediter = "deposit-crediter"
        public static let all = [transactionFetcher, customerPolicy, purseRenewer, depositCrediter]
    }

    /// The environment variable that holds the prefix.
    public static let prefixVariable = "TOPIC_PREFIX"

    public var prefix: String

    public init(prefix: String = "") { self.prefix = prefix }

    /// Reads ``prefixVariable`` from `environment` (empty when unset).
    public init(environment: [String: String]) { self.init(prefix: environment[Self.prefixVariable] ?? "") }

    /// `base` with the prefix.
    public func name(_ base: String) -> String { prefix + base }

    public var webhooks: String { name(Base.webhooks) }
    public var transactions: String { name(Base.transactions) }
    public var customers: String { name(Base.customers) }
    public var depositsApproved: String { name(Base.depositsApproved) }
    public var depositsCredited: String { name(Base.depositsCredited) }
    public var depositsHeld: String { name(Base.depositsHeld) }
    public var depositsDeclined: String { name(Base.depositsDeclined) }
    public var pursesRenewed: String { name(Base.pursesRenewed) }

    public func deadLetter(worker: String) -> String { name(Base.deadLetter(worker: worker)) }

    /// The topic that carries events of `type`, when Purser publishes that type.
    public func topic(for type: EventType) -> String? {
        let base: String? =
            switch type {
            case .webhookReceived: Base.webhooks
            case .transactionUpdated: Base.transactions
            case .customerChanged: Base.customers
            case .depositApproved: Base.depositsApproved
            case .depositCredited: Base.depositsCredited
            case .depositHeld: Base.depositsHeld
            case .depositDeclined: Base.depositsDeclined
            case .purseRenewed: Base.pursesRenewed
            default: nil
            }
        return base.map(name)
    }
}
