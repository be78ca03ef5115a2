/// The purse renewer's rule: which webhooks ask for a new address.
public enum RenewalRule {
    /// The webhook type that reports an expired purse.
    public static let expiredEventType = "CUSTOMER_PURSE_EXPIRED"

    /// What to do with one webhook, before the once-per-purse check.
    public enum Verdict: Equatable, Sendable {
        /// Ask Calypso for the customer's address and publish `purse.renewed`.
        case renew
        /// The customer is blocked (by the webhook's flag or the latest `purser.customer.changed`).
        case skipBlockedCustomer
        /// Not a purse expiry.
        case ignore
    }

    public static func verdict(
        eventType: String,
        blockedByWebhook: Bool,
        blockedByCustomerTable: Bool?
    ) -> Verdict {
        guard eventType == expiredEventType else { return .ignore }
        if blockedByWebhook || blockedByCustomerTable == true { return .skipBlockedCustomer }
        return .renew
    }
}
