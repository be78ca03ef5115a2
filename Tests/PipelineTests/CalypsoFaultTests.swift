import CalypsoSandbox
import PurserKafka
import PurserRuntime
import PurserSchema
import PurserTesting
import PurserWorkers
import Testing

/// Calypso's API failing, slow, or never catching up: retries, dead letters, redrive.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct CalypsoFaultTests {
    @Test("with 20 % of API calls failing with 500 and 2 s latency, every deposit is credited once")
    func slowAndFailingAPIStillCreditsEverything() async throws {
        let pipeline = try await Pipeline()
        var customers: [String] = []
        for _ in 0..<10 { customers.append(try await pipeline.customer().id) }
        var faults = SandboxFaults()
        faults.apiErrorRate = 0.2
        faults.apiErrorStatus = 500
        faults.apiLatency = .seconds(2)
        try pipeline.sandbox.setFaults(faults)

        var expected = Set<String>()
        for index in 0..<20 {
            let deposit = SandboxDeposit(customerId: customers[index % 10], currency: "ETH", amount: try DecimalAmount("0.\(index + 1)"))
            expected.insert(try pipeline.sandbox.simulateDeposit(deposit).transactionId)
        }
        let workers = try pipeline.startWorkers()
        let credited = pipeline.topics.depositsCredited
        try await pipeline.eventually(timeout: .seconds(180)) { try await pipeline.count(credited) >= 20 }
        try await pipeline.waitUntilConsumed(group: "purser-transaction-fetcher", topic: pipeline.topics.webhooks, timeout: .seconds(120))
        try await pipeline.waitUntilConsumed(group: "purser-customer-policy", topic: pipeline.topics.transactions)
        try await pipeline.waitUntilConsumed(group: "purser-deposit-crediter", topic: pipeline.topics.depositsApproved)
        try await workers.stop()

        let credits = try await pipeline.events(DepositCredited.self, in: credited)
        #expect(credits.count == 20)
        #expect(Set(credits.map(\.data.deposit.transactionId)) == expected)
        #expect(try await pipeline.count(pipeline.topics.deadLetter(worker: "transaction-fetcher"), partitions: 1) == 0)
        try await pipeline.stop()
    }

    @Test("a transaction the API does not confirm is dead-lettered after the retry budget; the partition flows; redriven later, it is credited once")
    func unconfirmedTransactionIsDeadLetteredThenRedriven() async throws {
        // One partition, so the stuck deposit and the other one share it.
        let pipeline = try await Pipeline(partitions: 1)
        let stuckCustomer = try await pipeline.customer()
        let otherCustomer = try await pipeline.customer()
        var lagging = SandboxDeposit(customerId: stuckCustomer.id, currency: "ETH", amount: try DecimalAmount("7.25"))
        lagging.apiLag = .seconds(15)
        let stuck = try pipeline.sandbox.simulateDeposit(lagging)
        let flowing = try pipeline.sandbox.simulateDeposit(
            SandboxDeposit(customerId: otherCustomer.id, currency: "ETH", amount: try DecimalAmount("1"))
        )

        let workers = try pipeline.startWorkers {
            $0.retry.initialDelay = .milliseconds(100)
            $0.retry.maxDelay = .milliseconds(200)
            $0.retry.maxAttempts = 3
        }
        let deadLetterTopic = pipeline.topics.deadLetter(worker: "transaction-fetcher")
        // FUNDS_RECEIVED and TRANSLATION_TO_ACCOUNT_COMPLETED both need the API's confirmation.
        try await pipeline.eventually { try await pipeline.count(deadLetterTopic, partitions: 1) >= 2 }
        try await pipeline.waitUntilConsumed(group: "purser-transaction-fetcher", topic: pipeline.topics.webhooks)
        try await pipeline.waitUntilConsumed(group: "purser-customer-policy", topic: pipeline.topics.transactions)
        try await pipeline.waitUntilConsumed(group: "purser-deposit-crediter", topic: pipeline.topics.depositsApproved)
        let beforeRedrive = try await pipeline.events(DepositCredited.self, in: pipeline.topics.depositsCredited)
        #expect(beforeRedrive.map(\.data.deposit.transactionId) == [flowing.transactionId], "the partition kept flowing")

        let deadLetters = try await pipeline.admin.readPartition(TopicPartition(deadLetterTopic, 0))
        #expect(deadLetters.count == 2)
        for letter in deadLetters {
            #expect(letter.header(DeadLetter.Header.reason) == "exhausted")
            #expect(letter.header(DeadLetter.Header.attempts) == "3")
            #expect(letter.header(DeadLetter.Header.topic) == pipeline.topics.webhooks)
            let webhook = try CloudEvent<WebhookReceived>(recordValue: letter.value ?? [])
            #expect(webhook.data.payload["transactionId"]?.stringValue == stuck.transactionId)
        }

        // The fault clears: the API catches up with the webhooks.
        try await pipeline.eventually(timeout: .seconds(60)) {
            try await pipeline.calypso.transaction(id: stuck.transactionId).translationToAccountCompleted
        }
        // The operator redrives them: `purser dlq redrive --worker transaction-fetcher`.
        try await pipeline.redriveDeadLetters(worker: "transaction-fetcher")
        try await pipeline.eventually { try await pipeline.count(pipeline.topics.depositsCredited) >= 2 }
        try await pipeline.waitUntilConsumed(group: "purser-transaction-fetcher", topic: pipeline.topics.webhooks)
        try await pipeline.waitUntilConsumed(group: "purser-customer-policy", topic: pipeline.topics.transactions)
        try await pipeline.waitUntilConsumed(group: "purser-deposit-crediter", topic: pipeline.topics.depositsApproved)
        try await workers.stop()

        let credits = try await pipeline.events(DepositCredited.self, in: pipeline.topics.depositsCredited)
        #expect(credits.count == 2)
        #expect(credits.filter { $0.data.deposit.transactionId == stuck.transactionId }.count == 1)
        #expect(credits.first { $0.data.deposit.transactionId == stuck.transactionId }?.data.deposit.amount.text == "7.25")
        #expect(try await pipeline.count(deadLetterTopic, partitions: 1) == 2, "nothing more dead-lettered")
        try await pipeline.stop()
    }
}
