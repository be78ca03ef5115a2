import PurserSchema
import PurserWorkers
import Testing

@Suite struct DepositPolicyTests {
    static let onConfirmed = DepositPolicy(waitsForSettlement: false)
    static let onSettled = DepositPolicy(waitsForSettlement: true)

    @Test func confirmedAndCheckedIsApprovedForACustomerInGoodStanding() {
        let decision = Self.onConfirmed.decide(
            transactionState: "CONFIRMED",
            complianceState: "CHECKED",
            translationToAccountCompleted: false,
            blockedByWebhook: false,
            blockedByCustomerTable: nil
        )
        #expect(decision == .approve)
    }

    @Test(arguments: [(true, nil), (false, true), (true, true), (true, false)] as [(Bool, Bool?)])
    func aBlockFromEitherSourceHoldsTheDeposit(webhook: Bool, table: Bool?) {
        let decision = Self.onConfirmed.decide(
            transactionState: "CONFIRMED",
            complianceState: "CHECKED",
            translationToAccountCompleted: true,
            blockedByWebhook: webhook,
            blockedByCustomerTable: table
        )
        #expect(decision == .hold(.customerBlocked))
        #expect(HoldReason.customerBlocked.rawValue == "customer_blocked")
    }

    @Test func anUnblockedCustomerTableEntryDoesNotHold() {
        let decision = Self.onConfirmed.decide(
            transactionState: "CONFIRMED",
            complianceState: "CHECKED",
            translationToAccountCompleted: false,
            blockedByWebhook: false,
            blockedByCustomerTable: false
        )
        #expect(decision == .approve)
    }

    @Test(arguments: [("DECLINED", "DECLINE"), ("DECLINED", "IN_PROGRESS"), ("PENDING_COMPLIANCE_CHECK", "DECLINE")])
    func declinedIsDeclinedEvenForABlockedCustomer(transactionState: String, complianceState: String) {
        for blocked in [false, true] {
            let decision = Self.onSettled.decide(
                transactionState: transactionState,
                complianceState: complianceState,
                translationToAccountCompleted: false,
                blockedByWebhook: blocked,
                blockedByCustomerTable: blocked
            )
            #expect(decision == .decline)
        }
    }

    @Test(arguments: [
        ("MEM_POOL_FOUND", "UNCHECKED"), ("PENDING_COMPLIANCE_CHECK", "IN_PROGRESS"), ("CONFIRMED", "IN_PROGRESS"),
        ("CONFIRMED", "UNCHECKED"), ("SOMETHING_NEW", "CHECKED"),
    ])
    func nonTerminalStatesDecideNothing(transactionState: String, complianceState: String) {
        let decision = Self.onConfirmed.decide(
            transactionState: transactionState,
            complianceState: complianceState,
            translationToAccountCompleted: true,
            blockedByWebhook: false,
            blockedByCustomerTable: nil
        )
        #expect(decision == .undecided)
    }

    @Test func creditOnSettledWaitsForTranslationToAccountCompleted() {
        func decide(settled: Bool, blocked: Bool) -> DepositDecision {
            Self.onSettled.decide(
                transactionState: "CONFIRMED",
                complianceState: "CHECKED",
                translationToAccountCompleted: settled,
                blockedByWebhook: false,
                blockedByCustomerTable: blocked
            )
        }
        #expect(decide(settled: false, blocked: false) == .undecided)
        #expect(decide(settled: false, blocked: true) == .undecided)
        #expect(decide(settled: true, blocked: false) == .approve)
        #expect(decide(settled: true, blocked: true) == .hold(.customerBlocked))
    }
}
