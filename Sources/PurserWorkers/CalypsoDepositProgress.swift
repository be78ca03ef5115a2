/// How far a Calypso deposit has come, as far as the merchant can tell.
///
/// Webhooks and `transaction/get` can disagree while Calypso's API lags behind its webhooks; ranking
/// both views on one scale lets the fetcher tell "the API has caught up" from "ask again later".
public enum CalypsoDepositProgress: Int, Comparable, Sendable {
    /// Seen in the mempool (`MEM_POOL_FOUND`).
    case seen
    /// Compliance check under way (`PENDING_COMPLIANCE_CHECK`).
    case inCompliance
    /// Terminal: `CONFIRMED` or `DECLINED`.
    case terminal
    /// `CONFIRMED` and credited to the merchant account (`translationToAccountCompleted`).
    case settled

    /// The progress a transaction state shows, or `nil` for a state Calypso may add later, which the
    /// fetcher must not take as caught up.
    public init?(transactionState: String, translationToAccountCompleted: Bool) {
        switch transactionState {
        case "MEM_POOL_FOUND": self = .seen
        case "PENDING_COMPLIANCE_CHECK": self = .inCompliance
        case "DECLINED": self = .terminal
        case "CONFIRMED": self = translationToAccountCompleted ? .settled : .terminal
        default: return nil
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
