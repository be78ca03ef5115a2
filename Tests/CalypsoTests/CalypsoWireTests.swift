import PurserJSON
import PurserSchema
import Testing

@testable import Calypso

@Suite struct CalypsoWireTests {
    /// A `PGTransactionDTO` with an 18-digit fraction, an unknown member and unknown enum values.
    static let body = #"""
        {"id":"0b8e4d0e-7a42-4a4f-9c39-1d2b7b0f6b8e","amount":0.123456789012345678,"currency":"USDT_BSC",
        "addressFrom":"0xabc","transactionHash":"0xdef","transactionState":"REFUNDED_SOMEHOW",
        "complianceState":"MANUAL_REVIEW","translationToAccountCompleted":false,
        "createdDate":"2025-07-30T10:53:50.356Z","newField":{"nested":[1,2]}}
        """#

    @Test func transactionKeepsExactAmountAndUnknownEnumValues() throws {
        let transaction = try JSONValueDecoder().decode(CalypsoTransaction.self, from: Array(Self.body.utf8))
        #expect(transaction.amount.description == "0.123456789012345678")
        #expect(transaction.transactionState == TransactionState(rawValue: "REFUNDED_SOMEHOW"))
        #expect(!transaction.transactionState.isTerminal)
        #expect(transaction.complianceState.rawValue == "MANUAL_REVIEW")
        #expect(transaction.customerId == nil)
    }

    @Test func transactionWritesAmountAsTheSameNumberLiteral() throws {
        let transaction = try JSONValueDecoder().decode(CalypsoTransaction.self, from: Array(Self.body.utf8))
        let written = try JSONValueEncoder().encode(transaction)
        #expect(written["amount"] == .number("0.123456789012345678"))
        #expect(try JSONValueDecoder().decode(CalypsoTransaction.self, from: written) == transaction)
    }

    @Test func purseStatusAcceptsBothArchiveSpellings() throws {
        let purses = try JSONValueDecoder().decode(
            [CalypsoPurse].self,
            from: Array(
                #"[{"id":"a","address":"x","status":"ARCHIEVED"},{"id":"b","address":"y","status":"ARCHIVED"}]"#.utf8
            )
        )
        #expect(purses.allSatisfy { $0.status?.isArchived == true })
        #expect(purses[0].status?.rawValue == "ARCHIEVED")
    }

    @Test func filterRequiresEveryGivenCondition() {
        let filter = CalypsoTransactionQuery.Filter(in: ["ETH", "BTC"], notIn: ["BTC"])
        #expect(filter.matches("ETH"))
        #expect(!filter.matches("BTC"))
        #expect(!filter.matches("TRX"))
        #expect(CalypsoTransactionQuery.Filter(specified: false).matches(nil))
        #expect(!CalypsoTransactionQuery.Filter(specified: true).matches(nil))
    }

    @Test func queryLeavesOutWhatIsNotSet() throws {
        let query = CalypsoTransactionQuery(customerId: "c1", currencyFilter: .init(equals: "ETH"), pageSize: 50)
        let written = try JSONValueEncoder().encode(query)
        #expect(written == ["customerId": "c1", "currencyFilter": ["equals": "ETH"], "pageSize": 50])
    }
}
