import PurserWorkers
import Testing

@Suite struct FetchRuleTests {
    @Test(arguments: [
        ("CUSTOMER_PURSE_COMPLIANCE_DECLINED", FetchRule.confirmWithAPI(atLeast: .terminal)),
        ("CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE", .confirmWithAPI(atLeast: .terminal)),
        ("CUSTOMER_PURSE_TRANSLATION_TO_ACCOUNT_COMPLETED", .confirmWithAPI(atLeast: .settled)),
        ("CUSTOMER_PURSE_MEM_POOL_FOUND", .publishWebhookView),
        ("CUSTOMER_PURSE_PENDING_COMPLIANCE", .publishWebhookView),
        ("CUSTOMER_PURSE_EXPIRED", .skip),
        ("CUSTOMER_PURSE_SOMETHING_NEW", .skip),
        ("INVOICE_PAID", .skip),
    ])
    func ruleForEachWebhookType(eventType: String, expected: FetchRule) {
        #expect(FetchRule(eventType: eventType) == expected)
    }

    @Test func fundsReceivedWaitsWhileTheAPIStillShowsComplianceInProgress() {
        let rule = FetchRule(eventType: "CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE")
        #expect(!rule.isCaughtUp(transactionState: "MEM_POOL_FOUND", translationToAccountCompleted: false))
        #expect(!rule.isCaughtUp(transactionState: "PENDING_COMPLIANCE_CHECK", translationToAccountCompleted: false))
        #expect(rule.isCaughtUp(transactionState: "CONFIRMED", translationToAccountCompleted: false))
        #expect(rule.isCaughtUp(transactionState: "CONFIRMED", translationToAccountCompleted: true))
    }

    @Test func declinedIsCaughtUpOnceTheAPIShowsATerminalState() {
        let rule = FetchRule(eventType: "CUSTOMER_PURSE_COMPLIANCE_DECLINED")
        #expect(!rule.isCaughtUp(transactionState: "PENDING_COMPLIANCE_CHECK", translationToAccountCompleted: false))
        #expect(rule.isCaughtUp(transactionState: "DECLINED", translationToAccountCompleted: false))
    }

    @Test func settlementWaitsForTranslationToAccountCompleted() {
        let rule = FetchRule(eventType: "CUSTOMER_PURSE_TRANSLATION_TO_ACCOUNT_COMPLETED")
        #expect(!rule.isCaughtUp(transactionState: "CONFIRMED", translationToAccountCompleted: false))
        #expect(rule.isCaughtUp(transactionState: "CONFIRMED", translationToAccountCompleted: true))
    }

    @Test func anUnknownAPIStateIsNeverTakenAsCaughtUp() {
        let rule = FetchRule(eventType: "CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE")
        #expect(!rule.isCaughtUp(transactionState: "SOMETHING_NEW", translationToAccountCompleted: true))
    }

    @Test func rulesWithoutAnAPICallAreAlwaysCaughtUp() {
        #expect(FetchRule.publishWebhookView.isCaughtUp(transactionState: "", translationToAccountCompleted: false))
    }
}
