import PurserJSON
import PurserSchema
import Testing

@testable import PurserWorkers

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

/// Calypso documents the transaction and compliance states only for `…_MEM_POOL_FOUND`: a deposit webhook
/// without them is still read, and its view gets the states documented for its type.
@Suite struct DepositWebhookStatesTests {
    static let payload: JSONValue = [
        "customerId": "c-1", "customerBlocked": false, "purseId": "p-1", "address": "0xabc", "currency": "ETH",
        "transactionId": "t-1", "amount": .number("1.000000000000000001"),
    ]

    static func webhook(_ type: WebhookEventType, payload: JSONValue = payload) -> WebhookReceived {
        WebhookReceived(
            eventId: "7",
            eventType: type,
            subscriptionId: "subscription",
            createdDate: "2026-11-25T10:00:00.000",
            level: .info,
            service: "CUSTOMER_PURSE",
            receivedAt: .now,
            keyId: "key",
            payload: payload
        )
    }

    @Test(arguments: [
        (WebhookEventType.memPoolFound, TransactionState.memPoolFound, ComplianceState.unchecked),
        (.pendingCompliance, .pendingComplianceCheck, .inProgress),
    ])
    func aWebhookViewWithoutStatesGetsTheDocumentedOnes(
        type: WebhookEventType,
        transactionState: TransactionState,
        complianceState: ComplianceState
    ) throws {
        let webhook = Self.webhook(type)
        let update = try TransactionUpdated(webhookView: try webhook.payload(as: DepositWebhook.self), of: webhook)
        #expect(update.transactionState == transactionState)
        #expect(update.complianceState == complianceState)
        #expect(update.amount.text == "1.000000000000000001")
        #expect(update.verifiedBy == .webhook)
    }

    @Test func aTerminalWebhookWithoutStatesIsReadForItsAPICall() throws {
        let deposit = try Self.webhook(.fundsReceived).payload(as: DepositWebhook.self)
        #expect(deposit.transactionId == "t-1")
        #expect(deposit.transactionState == nil)
    }

    @Test func statesTheWebhookSendsWin() throws {
        let webhook = Self.webhook(
            .pendingCompliance,
            payload: [
                "customerId": "c-1", "purseId": "p-1", "address": "0xabc", "currency": "ETH", "transactionId": "t-1",
                "amount": 2, "transactionState": "SOMETHING_NEW",
            ]
        )
        let update = try TransactionUpdated(webhookView: try webhook.payload(as: DepositWebhook.self), of: webhook)
        #expect(update.transactionState.rawValue == "SOMETHING_NEW")
        #expect(update.complianceState == .inProgress)
    }
}
