import CalypsoSandbox
import PurserSchema
import PurserTesting
import PurserWorkers
import Testing

/// Many deposits with Calypso's delivery faults: duplicates and reordering never change what is credited.
@Suite(.serialized, .timeLimit(.minutes(6)))
struct PipelineLoadTests {
    @Test("1,000 deposits of 100 customers, 30 % duplicate and 30 % out-of-order webhooks: 1,000 credits, as the ledger says")
    func thousandDepositsWithDuplicatesAndReordering() async throws {
        var faults = SandboxFaults()
        faults.duplicateDeliveryRate = 0.3
        faults.outOfOrderDeliveryRate = 0.3
        let pipeline = try await Pipeline(faults: faults)
        let workers = try pipeline.startWorkers()

        var customers: [String] = []
        for _ in 0..<100 { customers.append(try await pipeline.customer().id) }
        for index in 0..<1000 {
            let amount = try DecimalAmount("\(index).\(String(repeating: "0", count: 17))\(index % 9 + 1)")
            try pipeline.sandbox.simulateDeposit(SandboxDeposit(customerId: customers[index % 100], currency: "ETH", amount: amount))
        }

        let credited = pipeline.topics.depositsCredited
        try await pipeline.eventually(timeout: .seconds(240)) { try await pipeline.count(credited) >= 1000 }
        // Every webhook and every decision so far processed: the count below is final.
        try await pipeline.waitUntilConsumed(group: "purser-transaction-fetcher", topic: pipeline.topics.webhooks)
        try await pipeline.waitUntilConsumed(group: "purser-customer-policy", topic: pipeline.topics.transactions)
        try await pipeline.waitUntilConsumed(group: "purser-deposit-crediter", topic: pipeline.topics.depositsApproved)
        try await workers.stop()

        let statistics = try pipeline.sandbox.deliveryStatistics(requestId: try #require(pipeline.sandbox.webhookSubscriptions().first).requestId)
        #expect(statistics.duplicates > 0 && statistics.reordered > 0, "the faults were in force")

        let credits = try await pipeline.events(DepositCredited.self, in: credited)
        #expect(credits.count == 1000)
        #expect(Set(credits.map(\.data.deposit.transactionId)).count == 1000)
        #expect(Set(credits.map(\.id)).count == 1000)

        let ledger = try await SandboxControlClient(baseURL: try await pipeline.sandbox.baseURL()).ledger()
        let confirmed = ledger.customers.flatMap { customer in customer.confirmed.map { (customer.customerId, $0) } }
        #expect(confirmed.count == 1000)
        let expected = Set(confirmed.map { "\($0.0) \($0.1.transactionId) \($0.1.amount) \($0.1.purseId) \($0.1.address)" })
        let actual = Set(
            credits.map { "\($0.data.deposit.customerId) \($0.data.deposit.transactionId) \($0.data.deposit.amount.text) \($0.data.deposit.purseId) \($0.data.deposit.address)" }
        )
        #expect(actual == expected)
        #expect(try await pipeline.count(pipeline.topics.depositsHeld) == 0)
        #expect(try await pipeline.count(pipeline.topics.depositsDeclined) == 0)
        try await pipeline.stop()
    }
}
