/// What the transaction fetcher does with one Calypso webhook type.
public enum FetchRule: Equatable, Sendable {
    /// A terminal event: publish `transaction/get`'s view once it shows at least this progress.
    case confirmWithAPI(atLeast: CalypsoDepositProgress)
    /// A non-terminal event: publish the webhook's own view without calling Calypso.
    case publishWebhookView
    /// Not a deposit event (purse expiry, or a type Calypso added later).
    case skip

    public init(eventType: String) {
        switch eventType {
        case "CUSTOMER_PURSE_COMPLIANCE_DECLINED", "CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE":
            self = .confirmWithAPI(atLeast: .terminal)
        case "CUSTOMER_PURSE_TRANSLATION_TO_ACCOUNT_COMPLETED":
            self = .confirmWithAPI(atLeast: .settled)
        case "CUSTOMER_PURSE_MEM_POOL_FOUND", "CUSTOMER_PURSE_PENDING_COMPLIANCE":
            self = .publishWebhookView
        default:
            self = .skip
        }
    }

    /// Whether the API's view of a transaction is as far along as the webhook that asked for it.
    ///
    /// Always `true` for rules that make no API call.
    public func isCaughtUp(transactionState: String, translationToAccountCompleted: Bool) -> Bool {
        guard case .confirmWithAPI(let required) = self else { return true }
        guard
            let progress = CalypsoDepositProgress(
                transactionState: transactionState,
                translationToAccountCompleted: translationToAccountCompleted
            )
        else { return false }
        return progress >= required
    }
}
