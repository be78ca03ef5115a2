import Calypso
import PurserSchema

/// A deposit to simulate: it arrives at the customer's current address for `currency` and
/// moves through Calypso's states, each step reported by a webhook.
public struct SandboxDeposit: Sendable, Hashable {
    /// How compliance ends.
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// `CONFIRMED`/`CHECKED`: `…_FUNDS_RECEIVED_FOR_PURSE`.
        case confirmed
        /// `DECLINED`/`DECLINE`: `…_COMPLIANCE_DECLINED`; the purse becomes `DECLINED`.
        case declined
    }

    /// When a confirmed deposit is credited to the merchant account (`translationToAccountCompleted`).
    public enum Settlement: String, Sendable, Hashable, Codable {
        /// Right after confirmation.
        case now
        /// When ``CalypsoSandbox/settle(transactionId:)`` is called.
        case later
        /// Never.
        case never
    }

    public var customerId: String
    public var currency: String
    public var amount: DecimalAmount
    public var outcome: Outcome = .confirmed
    /// Whether `…_MEM_POOL_FOUND` comes first (Calypso does not guarantee it).
    public var includesMempoolEvent = true
    public var settlement: Settlement = .now
    /// How long `transaction/get` trails each of this deposit's webhooks before showing its
    /// state; `nil` uses the faults' ``SandboxFaults/apiLag``.
    public var apiLag: Duration?
    /// The sender's address; the sandbox makes one up when `nil`.
    public var addressFrom: String?

    public init(customerId: String, currency: String, amount: DecimalAmount) {
        self.customerId = customerId
        self.currency = currency
        self.amount = amount
    }
}

/// Where a simulated deposit landed.
public struct SandboxDepositReceipt: Sendable, Hashable, Codable {
    public var transactionId: String
    public var purseId: String
    public var address: String
}

/// What the sandbox considers settled business, for tests to compare with Purser's output.
public struct SandboxLedger: Sendable, Hashable, Codable {
    public struct Entry: Sendable, Hashable, Codable {
        public var transactionId: String
        public var currency: String
        /// The exact decimal amount.
        public var amount: String
        public var purseId: String
        public var address: String
        /// Whether the customer was blocked when the deposit arrived (Purser holds such deposits).
        public var customerBlocked: Bool
        public var translationToAccountCompleted: Bool
    }

    public struct Customer: Sendable, Hashable, Codable {
        public var customerId: String
        public var blocked: Bool
        /// Deposits that reached `CONFIRMED`, in arrival order.
        public var confirmed: [Entry]
        /// Deposits compliance declined, in arrival order.
        public var declined: [Entry]
    }

    /// Every customer, in creation order.
    public var customers: [Customer]

    public func customer(_ id: String) -> Customer? { customers.first { $0.customerId == id } }
}

/// The body of `POST /sandbox/deposits`: `amount` is a decimal string; the rest mirrors ``SandboxDeposit``.
struct SandboxDepositRequest: Codable {
    var customerId: String
    var currency: String
    var amount: String
    var outcome: SandboxDeposit.Outcome?
    var mempool: Bool?
    var settle: SandboxDeposit.Settlement?
    var apiLagMs: Int64?
    var addressFrom: String?

    init(_ deposit: SandboxDeposit) {
        customerId = deposit.customerId
        currency = deposit.currency
        amount = deposit.amount.text
        outcome = deposit.outcome
        mempool = deposit.includesMempoolEvent
        settle = deposit.settlement
        apiLagMs = deposit.apiLag?.milliseconds
        addressFrom = deposit.addressFrom
    }

    func deposit() throws(SandboxError) -> SandboxDeposit {
        let exact: DecimalAmount
        do {
            exact = try DecimalAmount(amount)
        } catch {
            throw .badRequest("amount \(amount) is not a decimal number: \(error)")
        }
        var deposit = SandboxDeposit(customerId: customerId, currency: currency, amount: exact)
        deposit.outcome = outcome ?? .confirmed
        deposit.includesMempoolEvent = mempool ?? true
        deposit.settlement = settle ?? .now
        deposit.apiLag = apiLagMs.map { .milliseconds($0) }
        deposit.addressFrom = addressFrom
        return deposit
    }
}
