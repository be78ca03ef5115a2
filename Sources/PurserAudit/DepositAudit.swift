import CalypsoSandbox
import PurserSchema

/// What Purser published compared with what Calypso (the sandbox ledger) settled: every confirmed
/// deposit of a customer who was not blocked credited exactly once, every one of a blocked customer
/// held exactly once, and nothing else.
public struct DepositAudit: Sendable, Hashable, Codable {
    /// Confirmed deposits of the ledger.
    public var confirmed = 0
    /// Confirmed deposits of customers blocked when they arrived: these must be held.
    public var blocked = 0
    /// Distinct transactions credited.
    public var credited = 0
    /// Distinct transactions held.
    public var held = 0
    /// Confirmed deposits with no credit (or, for blocked customers, no hold).
    public var lost = 0
    /// Credits and holds beyond the first of their transaction.
    public var duplicated = 0
    /// Credits or holds the ledger does not call for (unknown transaction, wrong kind, other amount).
    public var unexpected = 0

    /// Nothing lost, nothing doubled, nothing made up.
    public var isClean: Bool { lost == 0 && duplicated == 0 && unexpected == 0 }

    /// Compares the ledger with the published credits and holds.
    public init(ledger: SandboxLedger, credits: [DepositDetails], holds: [DepositDetails]) {
        let entries = ledger.customers.flatMap(\.confirmed)
        let toCredit = Self.expectations(entries.filter { !$0.customerBlocked })
        let toHold = Self.expectations(entries.filter(\.customerBlocked))
        confirmed = entries.count
        blocked = toHold.count
        let creditOutcome = Self.compare(credits, with: toCredit)
        let holdOutcome = Self.compare(holds, with: toHold)
        credited = creditOutcome.distinct
        held = holdOutcome.distinct
        lost = creditOutcome.missing + holdOutcome.missing
        duplicated = creditOutcome.extra + holdOutcome.extra
        unexpected = creditOutcome.unexpected + holdOutcome.unexpected
    }

    /// Transaction id → the exact amount it must carry.
    private static func expectations(_ entries: [SandboxLedger.Entry]) -> [String: String] {
        Dictionary(entries.map { ($0.transactionId, $0.amount) }, uniquingKeysWith: { first, _ in first })
    }

    private static func compare(
        _ published: [DepositDetails],
        with expected: [String: String]
    ) -> (distinct: Int, missing: Int, extra: Int, unexpected: Int) {
        var seen: [String: Int] = [:]
        var unexpected = 0
        for deposit in published {
            seen[deposit.transactionId, default: 0] += 1
            if seen[deposit.transactionId] == 1, expected[deposit.transactionId] != deposit.amount.text {
                unexpected += 1
            }
        }
        let missing = expected.keys.filter { seen[$0] == nil }.count
        let extra = seen.values.reduce(0) { $0 + $1 - 1 }
        return (seen.count, missing, extra, unexpected)
    }
}
