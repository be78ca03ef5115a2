import Calypso
import CalypsoSandbox
import Foundation
import Hummingbird
import PurserJSON
import PurserSchema
import Testing

/// The sandbox's webhook delivery against a small local receiver.
@Suite(.serialized) struct WebhookDeliveryTests {
    /// Creates a customer with an ETH address and subscribes the receiver to every purse event.
    static func setUp(_ client: CalypsoClient, url: String) async throws -> (
        CalypsoCustomer, CalypsoWebhookSubscription
    ) {
        let subscription = try await client.createWebhookSubscription(
            .init(requestId: UUID().uuidString.lowercased(), url: url)
        )
        let customer = try await client.createCustomer(.init())
        _ = try await client.address(customerId: customer.id, currency: "ETH")
        return (customer, subscription)
    }

    static func deposit(_ customerId: String, _ amount: String) throws -> SandboxDeposit {
        SandboxDeposit(customerId: customerId, currency: "ETH", amount: try DecimalAmount(amount))
    }

    @Test func deliveriesAreSignedWithTheSubscriptionKeyAndCarryCalypsosEnvelope() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withSandbox { sandbox, client in
                let (customer, subscription) = try await Self.setUp(client, url: url)
                let receipt = try sandbox.simulateDeposit(try Self.deposit(customer.id, "12.345000000000000001"))
                let purse = try await client.address(customerId: customer.id, currency: "ETH")
                try sandbox.expirePurse(id: purse.id)
                #expect(try await eventually { receiver.received.count == 5 })

                let verifier = WebhookVerifier(keyPairs: [subscription.keyPair])
                let deliveries = receiver.received
                for delivery in deliveries {
                    #expect(
                        try verifier.verify(key: delivery.key, sign: delivery.sign, body: delivery.body)
                            == subscription.keyPair
                    )
                }
                #expect(
                    deliveries.map(\.eventType) == [
                        "CUSTOMER_PURSE_MEM_POOL_FOUND", "CUSTOMER_PURSE_PENDING_COMPLIANCE",
                        "CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE", "CUSTOMER_PURSE_TRANSLATION_TO_ACCOUNT_COMPLETED",
                        "CUSTOMER_PURSE_EXPIRED",
                    ]
                )
                let ids = deliveries.compactMap { Int($0.eventId) }
                #expect(ids.count == 5 && ids == ids.sorted() && Set(ids).count == 5)
                #expect(
                    try await eventually {
                        (try? sandbox.acknowledgedWebhookIds(requestId: subscription.requestId)) == Set(ids.map(Int64.init))
                    },
                    "every webhook answered 200 is recorded as acknowledged"
                )

                let funds = try deliveries[2].json
                #expect(funds["requestId"] == .string(subscription.requestId))
                #expect(funds["service"] == "CUSTOMER_PURSE")
                #expect(funds["level"] == "INFO")
                #expect(funds["createdDate"]?.stringValue?.isEmpty == false)
                let data = try #require(funds["data"])
                #expect(data["amount"] == .number("12.345000000000000001"))
                #expect(data["transactionId"] == .string(receipt.transactionId))
                #expect(data["customerId"] == .string(customer.id))
                #expect(data["purseId"] == .string(receipt.purseId))
                #expect(data["address"] == .string(receipt.address))
                #expect(data["currency"] == "ETH")
                #expect(data["customerBlocked"] == false)
                #expect(data["transactionState"] == "CONFIRMED")
                #expect(data["complianceState"] == "CHECKED")
                #expect(data["translationToAccountCompleted"] == false)
                #expect(data["transactionHash"]?.stringValue?.hasPrefix("0x") == true)

                let expired = try #require(try deliveries[4].json["data"])
                #expect(
                    expired == [
                        "customerId": .string(customer.id), "customerBlocked": false, "purseId": .string(purse.id),
                        "address": .string(purse.address),
                    ]
                )
            }
        }
    }

    @Test func webhooksOfABlockedCustomerSayCustomerBlocked() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withSandbox { sandbox, client in
                let (customer, _) = try await Self.setUp(client, url: url)
                _ = try await client.blockCustomer(id: customer.id)
                try sandbox.simulateDeposit(try Self.deposit(customer.id, "3"))
                try sandbox.expirePurse(customerId: customer.id, currency: "ETH")
                #expect(try await eventually { receiver.received.count == 5 })
                let flags = try receiver.received.map { try $0.json["data"]?["customerBlocked"] }
                #expect(flags == Array(repeating: true, count: 5))
            }
        }
    }

    @Test func transactionGetShowsAStepOnlyOnceItsWebhookWentOut() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            var configuration = sandboxConfiguration()
            configuration.reorderHold = .seconds(60)
            try await withSandbox(configuration) { sandbox, client in
                let (customer, _) = try await Self.setUp(client, url: url)
                _ = try await client.address(customerId: customer.id, currency: "BTC")
                var holdEverything = SandboxFaults()
                holdEverything.outOfOrderDeliveryRate = 1
                try sandbox.setFaults(holdEverything)
                var deposit = try Self.deposit(customer.id, "2")
                deposit.includesMempoolEvent = false
                deposit.settlement = .never
                let id = try sandbox.simulateDeposit(deposit).transactionId

                // Both webhooks are held back: the API shows the first state only.
                #expect(try await client.transaction(id: id).transactionState == .pendingComplianceCheck)
                #expect(receiver.received.isEmpty)

                // A later webhook overtakes them and releases them, in their order.
                try sandbox.setFaults(SandboxFaults())
                try sandbox.expirePurse(customerId: customer.id, currency: "BTC")
                #expect(try await eventually { receiver.received.count == 3 })
                #expect(
                    receiver.received.map(\.eventType) == [
                        "CUSTOMER_PURSE_EXPIRED", "CUSTOMER_PURSE_PENDING_COMPLIANCE",
                        "CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE",
                    ]
                )
                #expect(try await client.transaction(id: id).transactionState == .confirmed)
            }
        }
    }

    @Test func failedDeliveriesRetryOnTheScaledScheduleUntilA200() async throws {
        // 500, 204, 503, then 200: every non-200 answer, other 2xx included, is a failure.
        let receiver = WebhookReceiver { attempt in
            [.internalServerError, .noContent, .serviceUnavailable][safe: attempt] ?? .ok
        }
        let timeScale = 0.01
        try await receiver.run { url in
            try await withSandbox(sandboxConfiguration(timeScale: timeScale)) { sandbox, client in
                let (customer, subscription) = try await Self.setUp(client, url: url)
                try sandbox.expirePurse(customerId: customer.id, currency: "ETH")
                #expect(try await eventually { receiver.received.count == 4 })
                let deliveries = receiver.received
                #expect(Set(deliveries.map(\.body)).count == 1)
                #expect(deliveries[0].eventType == "CUSTOMER_PURSE_EXPIRED")
                let gaps = zip(deliveries[0..<3], deliveries[1..<4]).map { $1.receivedAt - $0.receivedAt }
                for (gap, scheduled) in zip(gaps, CalypsoRetrySchedule.gaps) {
                    #expect(gap >= scheduled * timeScale)
                }
                // A 200 is final: nothing more arrives within twice the next retry gap.
                try await Task.sleep(for: CalypsoRetrySchedule.gaps[3] * timeScale * 2)
                #expect(receiver.received.count == 4)
                let statistics = try sandbox.deliveryStatistics(requestId: subscription.requestId)
                #expect(statistics.attempts == 4 && statistics.delivered == 1 && statistics.failed == 3)
                #expect(statistics.pending == 0)
            }
        }
    }

    @Test func retryScheduleIsCalypsosFibonacciSeries() {
        #expect(CalypsoRetrySchedule.gaps.count == 19)
        #expect(
            CalypsoRetrySchedule.gaps.prefix(6) == [
                .seconds(30), .seconds(30), .seconds(60), .seconds(90), .seconds(150), .seconds(240),
            ]
        )
        #expect(CalypsoRetrySchedule.gaps.last == .seconds(125_430))
    }

    /// 50 deposits (200 webhooks) with 25% duplicates and 20% held back.
    /// - Returns: the ids delivered twice and the ids held back behind a later one.
    static func deliverWithFaults(seed: UInt64) async throws -> (duplicated: [String], overtaken: [String]) {
        let receiver = WebhookReceiver()
        return try await receiver.run { url in
            var configuration = sandboxConfiguration(seed: seed)
            configuration.reorderHold = .seconds(5)
            configuration.faults.duplicateDeliveryRate = 0.25
            configuration.faults.outOfOrderDeliveryRate = 0.2
            return try await withSandbox(configuration) { sandbox, client in
                let (customer, subscription) = try await Self.setUp(client, url: url)
                for index in 0..<50 { try sandbox.simulateDeposit(try Self.deposit(customer.id, "\(index).5")) }
                let events = 200
                let statistics = { try sandbox.deliveryStatistics(requestId: subscription.requestId) }
                #expect(
                    try await eventually {
                        try statistics().pending == 0 && receiver.received.count == events + statistics().duplicates
                    }
                )

                let ids = receiver.received.map(\.eventId)
                #expect(Set(ids).count == events)
                let counts = Dictionary(ids.map { ($0, 1) }, uniquingKeysWith: +)
                let duplicated = counts.filter { $0.value == 2 }.keys.sorted()
                #expect(duplicated.count == counts.count { $0.value > 1 })
                #expect(duplicated.count == (try statistics().duplicates))
                #expect((30...70).contains(duplicated.count), "about 25% of 200, got \(duplicated.count)")

                // A held-back webhook's first delivery comes after a later webhook's (unless it was the
                // very last webhook: then nothing overtakes it and it goes when its hold ends).
                var seen = Set<String>()
                let firsts = ids.filter { seen.insert($0).inserted }.compactMap(Int.init)
                let overtaken = firsts.indices.filter { index in firsts[..<index].contains { $0 > firsts[index] } }
                let reordered = try statistics().reordered
                #expect((20...60).contains(reordered), "about 20% of 200, got \(reordered)")
                #expect((reordered - 1...reordered).contains(overtaken.count))
                return (duplicated, overtaken.map { String(firsts[$0]) }.sorted())
            }
        }
    }

    @Test func duplicatesAndReorderingHappenAtTheConfiguredRatesTheSameUnderOneSeed() async throws {
        let first = try await Self.deliverWithFaults(seed: 42)
        let second = try await Self.deliverWithFaults(seed: 42)
        #expect(first.duplicated == second.duplicated)
        #expect(first.overtaken == second.overtaken)
        let other = try await Self.deliverWithFaults(seed: 43)
        #expect(other.duplicated != first.duplicated)
    }

    @Test func noFaultsMeansOneDeliveryEachInOrder() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withSandbox { sandbox, client in
                let (customer, _) = try await Self.setUp(client, url: url)
                for index in 0..<10 { try sandbox.simulateDeposit(try Self.deposit(customer.id, "0.\(index)1")) }
                #expect(try await eventually { receiver.received.count == 40 })
                let ids = receiver.received.compactMap { Int($0.eventId) }
                #expect(ids == ids.sorted() && Set(ids).count == 40)
            }
        }
    }

    @Test func subscriptionBlocksAfterMoreThan100FailuresIn10Minutes() async throws {
        let receiver = WebhookReceiver { _ in .badGateway }
        try await receiver.run { url in
            try await withSandbox { sandbox, client in
                let (customer, subscription) = try await Self.setUp(client, url: url)
                // 26 deposits make 104 webhooks; each first attempt fails and retries only after 30 s.
                for index in 0..<26 { try sandbox.simulateDeposit(try Self.deposit(customer.id, "\(index + 1)")) }
                let isBlocked = { sandbox.webhookSubscriptions().first?.blockedByErrorCount == true }
                #expect(try await eventually(isBlocked))
                #expect(receiver.received.count == 101)
                let statistics = try sandbox.deliveryStatistics(requestId: subscription.requestId)
                #expect(statistics.failed == 101 && statistics.delivered == 0 && statistics.pending == 104)
                #expect(try await client.webhookSubscriptions().first?.blockedByErrorCount == true)

                // Unblocking resends everything that failed or waited meanwhile.
                receiver.answer { _ in .ok }
                try sandbox.unblockSubscription(requestId: subscription.requestId)
                #expect(try await eventually { receiver.received.count == 101 + 104 })
                let delivered = Set(receiver.received[101...].map(\.eventId))
                #expect(delivered.count == 104)
                #expect(try await client.webhookSubscriptions().first?.blockedByErrorCount == false)
            }
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
