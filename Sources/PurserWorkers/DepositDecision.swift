import PurserSchema

/// The customer policy's verdict on one state of a Calypso transaction.
public enum DepositDecision: Equatable, Sendable {
    /// Credit it: becomes `purser.deposit.approved`.
    case approve
    /// Confirmed but not credited: becomes `deposit.held`.
    case hold(HoldReason)
    /// Refused by compliance: becomes `deposit.declined`.
    case decline
    /// Not decided yet (not terminal, or waiting for settlement); later states will decide.
    case undecided
}

/// The customer policy's decision table, over plain values so it can be tested alone.
public struct DepositPolicy: Sendable, Hashable {
    /// Whether approval waits for `translationToAccountCompleted` (`CREDIT_ON=settled`).
    public var waitsForSettlement: Bool

    public init(waitsForSettlement: Bool) {
        self.waitsForSettlement = waitsForSettlement
    }

    /// Decides what one transaction state means for the merchant.
    ///
    /// A customer counts as blocked when either the webhook said so or the latest
    /// `purser.customer.changed` did: a block from either source is enough to hold money.
    /// - Parameters:
    ///   - blockedByCustomerTable: the latest `purser.customer.changed`'s flag, `nil` when the
    ///     customer has no entry yet.
    public func decide(
        transactionState: String,
        complianceState: String,
        translationToAccountCompleted: Bool,
        blockedByWebhook: Bool,
        blockedByCustomerTable: Bool?
    ) -> DepositDecision {
        if transactionState == "DECLINED" || complianceState == "DECLINE" {
            return .decline
        }
        guard transactionState == "CONFIRMED", complianceState == "CHECKED" else { return .undecided }
        if waitsForSettlement && !translationToAccountCompleted { return .undecided }
        if blockedByWebhook || blockedByCustomerTable == true { return .hold(.customerBlocked) }
        return .approve
    }
}
