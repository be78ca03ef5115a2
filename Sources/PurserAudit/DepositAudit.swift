import CalypsoSandbox
import PurserSchema

/// What Purser published compared with what Calypso (the sandbox ledger) settled: every confirmed
/// deposit of a customer who was not blocked credited exactly once, every one of a blocked customer
/// held exactly once, every declined one declined exactly once, each with the ledger's customer, purse,
/// address, currency and amount, nothing else, and nothing dead-lettered.
public struct DepositAudit: Sendable, Hashable, Codable {
    /// Confirmed deposits of the ledger.
    public var confirmed = 0
    /// Confirmed deposits of customers blocked when they arrived: these must be held.
    public var blocked = 0
    /// Distinct transactions credited.
    public var credited = 0
    /// Distinct transactions held.
    public var held = 0
    /// Declined deposits of the ledger, and distinct transactions declined.
    public var toDecline = 0
    public var declined = 0
    /// Ledger deposits with no credit, hold or decline (whichever they call for).
    public var lost = 0
    /// Credits, holds and declines beyond the first of their transaction.
    public var duplicated = 0
    /// Credits, holds or declines the ledger does not call for: an unknown transaction, the wrong kind, or
    /// any of customer, purse, address, currency and amount other than the ledger's.
    public var unexpected = 0
    /// Records on the dead-letter topics: records the pipeline gave up on.
    public var deadLettered = 0

    /// Nothing lost, doubled, made up or given up.
    public var isClean: Bool { lost == 0 && duplicated == 0 && unexpected == 0 && deadLettered == 0 }

    /// Compares the ledger with the published credits, holds and declines.
    public init(
        ledger: SandboxLedger,
        credits: [DepositDetails],
        holds: [DepositDetails],
        declines: [DepositDeclined] = [],
        deadLettered: Int = 0
    ) {
        let confirmedEntries = ledger.customers.flatMap { customer in customer.confirmed.map { (customer.customerId, $0) } }
        let toCredit = Self.expectations(confirmedEntries.filter { !$0.1.customerBlocked })
        let toHold = Self.expectations(confirmedEntries.filter { $0.1.customerBlocked })
        let toDecline = Self.expectations(ledger.customers.flatMap { customer in customer.declined.map { (customer.customerId, $0) } })
        confirmed = confirmedEntries.count
        blocked = toHold.count
        self.toDecline = toDecline.count
        // A decline carries the same identifying fields as a credit or a hold.
        let declined = declines.map {
            DepositDetails(
                transactionId: $0.transactionId, customerId: $0.customerId, purseId: $0.purseId, address: $0.address,
                currency: $0.currency, amount: $0.amount, transactionHash: nil, addressFrom: nil
            )
        }
        let outcomes = [
            Self.compare(credits, with: toCredit), Self.compare(holds, with: toHold), Self.compare(declined, with: toDecline),
        ]
        credited = outcomes[0].distinct
        held = outcomes[1].distinct
        self.declined = outcomes[2].distinct
        lost = outcomes.reduce(0) { $0 + $1.missing }
        duplicated = outcomes.reduce(0) { $0 + $1.extra }
        unexpected = outcomes.reduce(0) { $0 + $1.unexpected }
        self.deadLettered = deadLettered
    }

    /// What a published deposit must carry.
    private struct Expected: Equatable {
        var customerId: String
        var purseId: String
        var address: String
        var currency: String
        var amount: String
    }

    /// Transaction id → what its publication must carry, from the ledger.
    private static func expectations(_ entries: [(customerId: String, entry: SandboxLedger.Entry)]) -> [String: Expected] {
        Dictionary(
            entries.map { customerId, entry in
                (
                    entry.transactionId,
                    Expected(
                        customerId: customerId, purseId: entry.purseId, address: entry.address, currency: entry.currency,
                        amount: entry.amount
                    )
                )
            },
            uniquingKeysWith: { first, _ in first }
        )
    }

    private static func compare(
        _ published: [DepositDetails],
        with expected: [String: Expected]
    ) -> (distinct: Int, missing: Int, extra: Int, unexpected: Int) {
        var seen: [String: Int] = [:]
        var unexpected = 0
        for deposit in published {
            seen[deposit.transactionId, default: 0] += 1
            let carried = Expected(
                customerId: deposit.customerId, purseId: deposit.purseId, address: deposit.address, currency: deposit.currency,
                amount: deposit.amount.text
            )
            if seen[deposit.transactionId] == 1, expected[deposit.transactionId] != carried {
                unexpected += 1
            }
        }
        let missing = expected.keys.filter { seen[$0] == nil }.count
        let extra = seen.values.reduce(0) { $0 + $1 - 1 }
        return (seen.count, missing, extra, unexpected)
    }
}
