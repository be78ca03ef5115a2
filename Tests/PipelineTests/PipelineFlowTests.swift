import CalypsoSandbox
import PurserKafka
import PurserRuntime
import PurserSchema
import PurserTesting
import PurserWorkers
import Testing

/// Deposits and expiries from the sandbox, through a real ingest, through the four workers.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct PipelineFlowTests {
    @Test("deposits become credited, declined or held; expiries renew purses; a poison record is dead-lettered")
    func depositsAndExpiriesFlowEndToEnd() async throws {
        let pipeline = try await Pipeline()
        let amount = try DecimalAmount("0.123456789012345678")

        let credited = try await pipeline.customer()
        let declined = try await pipeline.customer()
        let blockedAtCalypso = try await pipeline.customer(blocked: true)
        let blockedByPurser = try await pipeline.customer()
        let expiring = try await pipeline.customer()
        let blockedExpiring = try await pipeline.customer(blocked: true)
        // Published before the workers start: the table has loaded it before the first decision.
        try await pipeline.publishCustomerChange(blockedByPurser.id, blocked: true)

        var confirmed = SandboxDeposit(customerId: credited.id, currency: "ETH", amount: amount)
        confirmed.addressFrom = "0x1111111111111111111111111111111111111111"
        let creditedReceipt = try pipeline.sandbox.simulateDeposit(confirmed)
        var refused = SandboxDeposit(customerId: declined.id, currency: "ETH", amount: try DecimalAmount("5"))
        refused.outcome = .declined
        let declinedReceipt = try pipeline.sandbox.simulateDeposit(refused)
        let heldAtCalypso = try pipeline.sandbox.simulateDeposit(
            SandboxDeposit(customerId: blockedAtCalypso.id, currency: "ETH", amount: try DecimalAmount("1.5"))
        )
        let heldByPurser = try pipeline.sandbox.simulateDeposit(
            SandboxDeposit(customerId: blockedByPurser.id, currency: "ETH", amount: try DecimalAmount("2.000000000000000001"))
        )
        try pipeline.sandbox.expirePurse(id: expiring.purse.id)
        try pipeline.sandbox.expirePurse(id: blockedExpiring.purse.id)
        // Not JSON at all: both readers of the webhook topic dead-letter it and carry on.
        let poison = try await pipeline.producer.send(
            ProducerRecord(topic: pipeline.topics.webhooks, partition: 0, key: credited.id, value: "{not json")
        )

        let workers = try pipeline.startWorkers()
        let topics = pipeline.topics
        try await pipeline.eventually {
            let counts = [
                try await pipeline.count(topics.depositsCredited), try await pipeline.count(topics.depositsDeclined),
                try await pipeline.count(topics.depositsHeld) / 2, try await pipeline.count(topics.pursesRenewed),
                try await pipeline.count(topics.deadLetter(worker: "purse-renewer"), partitions: 1),
                try await pipeline.count(topics.deadLetter(worker: "transaction-fetcher"), partitions: 1),
            ]
            return counts.allSatisfy { $0 >= 1 }
        }
        // Everything published so far is processed: the counts below are final.
        try await pipeline.waitUntilConsumed(group: "purser-transaction-fetcher", topic: topics.webhooks)
        try await pipeline.waitUntilConsumed(group: "purser-purse-renewer", topic: topics.webhooks)
        try await pipeline.waitUntilConsumed(group: "purser-customer-policy", topic: topics.transactions)
        try await pipeline.waitUntilConsumed(group: "purser-deposit-crediter", topic: topics.depositsApproved)
        try await workers.stop()

        // Credited: exactly one, every field as Calypso has it.
        let credits = try await pipeline.events(DepositCredited.self, in: topics.depositsCredited)
        let credit = try #require(credits.first)
        #expect(credits.count == 1)
        let calypsoView = try await pipeline.calypso.transaction(id: creditedReceipt.transactionId)
        #expect(credit.data.deposit.transactionId == creditedReceipt.transactionId)
        #expect(credit.data.deposit.customerId == credited.id)
        #expect(credit.data.deposit.purseId == creditedReceipt.purseId)
        #expect(credit.data.deposit.address == creditedReceipt.address)
        #expect(credit.data.deposit.currency == "ETH")
        #expect(credit.data.deposit.amount.text == "0.123456789012345678")
        #expect(credit.data.deposit.transactionHash == calypsoView.transactionHash)
        #expect(credit.data.deposit.transactionHash?.isEmpty == false)
        #expect(credit.data.deposit.addressFrom == "0x1111111111111111111111111111111111111111")
        #expect(credit.data.account == Pipeline.account)
        #expect(credit.id == EventID.deterministic(type: .depositCredited, key: creditedReceipt.transactionId))
        #expect(credit.subject == credited.id)
        #expect(credit.source == DepositCrediter.source)
        let creditRecord = try #require(try await pipeline.records(topics.depositsCredited).first)
        #expect(creditRecord.key == Array(credited.id.utf8))

        // The trace ingest started for the confirming webhook reaches the credit, with a span of its own.
        let webhooks = try await pipeline.records(topics.webhooks).compactMap {
            try? CloudEvent<WebhookReceived>(recordValue: $0.value ?? [])
        }.filter {
            $0.data.payload["transactionId"]?.stringValue == creditedReceipt.transactionId
                && $0.data.eventType == .fundsReceived
        }
        let webhookTrace = try #require(webhooks.first?.traceparent)
        #expect(credit.traceparent?.traceID == webhookTrace.traceID)
        #expect(Set(webhooks.compactMap(\.traceparent)).contains(try #require(credit.traceparent)) == false)

        // Declined.
        let declines = try await pipeline.events(DepositDeclined.self, in: topics.depositsDeclined)
        #expect(declines.map(\.data.transactionId) == [declinedReceipt.transactionId])
        #expect(declines.first?.data.amount.text == "5")
        #expect(declines.first?.data.complianceState == .decline)
        #expect(declines.first?.id == EventID.deterministic(type: .depositDeclined, key: declinedReceipt.transactionId))

        // Held, never credited: blocked by the webhook's flag, and by purser.customer.changed.
        let holds = try await pipeline.events(DepositHeld.self, in: topics.depositsHeld)
        #expect(Set(holds.map(\.data.deposit.transactionId)) == [heldAtCalypso.transactionId, heldByPurser.transactionId])
        #expect(holds.count == 2)
        #expect(holds.allSatisfy { $0.data.reason == .customerBlocked && $0.data.account == Pipeline.account })
        #expect(holds.first { $0.data.deposit.transactionId == heldByPurser.transactionId }?.data.deposit.amount.text
            == "2.000000000000000001")

        // Renewed once, with the address Calypso now gives; the blocked customer's purse is not renewed.
        let renewals = try await pipeline.events(PurseRenewed.self, in: topics.pursesRenewed)
        let current = try await pipeline.calypso.address(customerId: expiring.id, currency: "ETH")
        #expect(renewals.count == 1)
        let renewal = try #require(renewals.first)
        #expect(renewal.data.customerId == expiring.id)
        // Calypso's expiry webhook names no currency: the renewer found it with purse/get-all.
        #expect(renewal.data.currency == "ETH")
        #expect(renewal.data.expiredPurseId == expiring.purse.id)
        #expect(renewal.data.expiredAddress == expiring.purse.address)
        #expect(renewal.data.purseId == current.id)
        #expect(renewal.data.address == current.address)
        #expect(renewal.data.address != expiring.purse.address)
        #expect(renewal.id == EventID.deterministic(type: .purseRenewed, key: expiring.purse.id))

        // The poison record: in both dead-letter topics, with where it came from.
        for worker in ["transaction-fetcher", "purse-renewer"] {
            let deadLetters = try await pipeline.admin.readPartition(TopicPartition(topics.deadLetter(worker: worker), 0))
            #expect(deadLetters.count == 1, "\(worker) dead-letters only the poison record")
            let letter = try #require(deadLetters.first)
            #expect(letter.value == Array("{not json".utf8))
            #expect(letter.header(DeadLetter.Header.offset) == "\(poison.offset)")
            #expect(letter.header(DeadLetter.Header.reason) == "permanent")
        }
        for worker in ["customer-policy", "deposit-crediter"] {
            #expect(try await pipeline.count(topics.deadLetter(worker: worker), partitions: 1) == 0)
        }
        try await pipeline.stop()
    }
}
