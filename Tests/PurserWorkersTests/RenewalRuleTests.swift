import PurserWorkers
import Testing

@Suite struct RenewalRuleTests {
    @Test func anExpiredPurseOfACustomerInGoodStandingIsRenewed() {
        for table in [nil, false] as [Bool?] {
            let verdict = RenewalRule.verdict(
                eventType: "CUSTOMER_PURSE_EXPIRED",
                blockedByWebhook: false,
                blockedByCustomerTable: table
            )
            #expect(verdict == .renew)
        }
    }

    @Test(arguments: [(true, nil), (false, true), (true, false)] as [(Bool, Bool?)])
    func aBlockedCustomerIsNotRenewed(webhook: Bool, table: Bool?) {
        let verdict = RenewalRule.verdict(
            eventType: "CUSTOMER_PURSE_EXPIRED",
            blockedByWebhook: webhook,
            blockedByCustomerTable: table
        )
        #expect(verdict == .skipBlockedCustomer)
    }

    @Test(arguments: ["CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE", "CUSTOMER_PURSE_MEM_POOL_FOUND", "UNKNOWN"])
    func otherWebhooksAreIgnored(eventType: String) {
        let verdict = RenewalRule.verdict(eventType: eventType, blockedByWebhook: false, blockedByCustomerTable: nil)
        #expect(verdict == .ignore)
    }
}
