import CalypsoSandbox
import Foundation
import PurserAudit
import PurserSchema
import Testing

/// The audit behind every chaos figure: it must catch each way a deposit can go wrong.
@Suite struct DepositAuditTests {
    static func entry(_ id: String, blocked: Bool = false) -> String {
        #"{"transactionId":"\#(id)","currency":"ETH","amount":"1.000000000000000001","purseId":"p-\#(id)","address":"a-\#(id)","customerBlocked":\#(blocked),"translationToAccountCompleted":true}"#
    }

    /// Ada has two confirmed deposits and a declined one; Bob, blocked, one confirmed.
    static let ledger = try! JSONDecoder().decode(
        SandboxLedger.self,
        from: Data(
            #"{"customers":[{"customerId":"ada","blocked":false,"confirmed":[\#(entry("t1")),\#(entry("t2"))],"declined":[\#(entry("t3"))]},"#
                .appending(#"{"customerId":"bob","blocked":true,"confirmed":[\#(entry("t4", blocked: true))],"declined":[]}]}"#).utf8
        )
    )

    static func deposit(_ id: String, customer: String, purse: String? = nil) -> DepositDetails {
        DepositDetails(
            transactionId: id, customerId: customer, purseId: purse ?? "p-\(id)", address: "a-\(id)", currency: "ETH",
            amount: try! DecimalAmount("1.000000000000000001"), transactionHash: nil, addressFrom: nil
        )
    }

    static let decline = DepositDeclined(
        transactionId: "t3", customerId: "ada", purseId: "p-t3", address: "a-t3", currency: "ETH",
        amount: try! DecimalAmount("1.000000000000000001"), complianceState: .decline, declinedAt: .now
    )

    @Test func everyDepositOnceWithTheLedgersFieldsIsClean() {
        let audit = DepositAudit(
            ledger: Self.ledger,
            credits: [Self.deposit("t1", customer: "ada"), Self.deposit("t2", customer: "ada")],
            holds: [Self.deposit("t4", customer: "bob")],
            declines: [Self.decline]
        )
        #expect(audit.isClean)
        let counts: [Int] = [audit.confirmed, audit.blocked, audit.credited, audit.held, audit.toDecline, audit.declined]
        #expect(counts == [3, 1, 2, 1, 1, 1])
    }

    @Test func wrongFieldsMissingDeclinesDuplicatesAndDeadLettersAreCaught() {
        let wrongCustomer = DepositAudit(
            ledger: Self.ledger,
            credits: [Self.deposit("t1", customer: "bob"), Self.deposit("t2", customer: "ada", purse: "p-other")],
            holds: [Self.deposit("t4", customer: "bob")],
            declines: [Self.decline]
        )
        #expect(wrongCustomer.unexpected == 2, "another customer, another purse")
        let noDecline = DepositAudit(
            ledger: Self.ledger,
            credits: [Self.deposit("t1", customer: "ada"), Self.deposit("t2", customer: "ada")],
            holds: [Self.deposit("t4", customer: "bob")]
        )
        #expect(noDecline.lost == 1 && !noDecline.isClean)
        let twice = DepositAudit(
            ledger: Self.ledger,
            credits: [Self.deposit("t1", customer: "ada"), Self.deposit("t2", customer: "ada"), Self.deposit("t2", customer: "ada")],
            holds: [Self.deposit("t4", customer: "bob")],
            declines: [Self.decline, Self.decline]
        )
        #expect(twice.duplicated == 2)
        let deadLettered = DepositAudit(
            ledger: Self.ledger,
            credits: [Self.deposit("t1", customer: "ada"), Self.deposit("t2", customer: "ada")],
            holds: [Self.deposit("t4", customer: "bob")],
            declines: [Self.decline],
            deadLettered: 1
        )
        #expect(!deadLettered.isClean)
    }
}
