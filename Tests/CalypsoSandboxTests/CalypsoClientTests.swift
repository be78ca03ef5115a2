import Calypso
import CalypsoSandbox
import Foundation
import PurserSchema
import Testing

/// The client against the sandbox, over HTTP, endpoint by endpoint.
@Suite(.serialized) struct CalypsoClientTests {
    @Test func customerCreateUpdateBlockUnblock() async throws {
        try await withSandbox { _, client in
            let created = try await client.createCustomer(.init(email: "a@example.com", externalId: "crm-1"))
            #expect(created.email == "a@example.com")
            #expect(created.externalId == "crm-1")
            #expect(!created.blocked)

            let updated = try await client.updateCustomer(id: created.id, .init(description: "VIP"))
            #expect(
                updated
                    == CalypsoCustomer(
                        id: created.id,
                        email: "a@example.com",
                        description: "VIP",
                        externalId: "crm-1",
                        blocked: false
                    )
            )
            #expect(try await client.blockCustomer(id: created.id).blocked)
            #expect(try await !client.unblockCustomer(id: created.id).blocked)
        }
    }

    @Test func oneAddressPerCustomerAndAddressFamily() async throws {
        try await withSandbox { _, client in
            let customer = try await client.createCustomer(.init())
            let eth = try await client.address(customerId: customer.id, currency: "ETH")
            let bsc = try await client.address(customerId: customer.id, currency: "USDT_BSC")
            let pol = try await client.address(customerId: customer.id, currency: "POL")
            let trx = try await client.address(customerId: customer.id, currency: "TRX")
            let usdtTron = try await client.address(customerId: customer.id, currency: "USDT_TRX")
            let btc = try await client.address(customerId: customer.id, currency: "BTC")
            #expect(eth == bsc && bsc == pol)
            #expect(eth.address.hasPrefix("0x") && eth.address.count == 42)
            #expect(trx == usdtTron && trx.address.hasPrefix("T"))
            #expect(Set([eth.address, trx.address, btc.address]).count == 3)
            #expect(try await client.address(customerId: customer.id, currency: "ETH") == eth)

            let other = try await client.createCustomer(.init())
            #expect(try await client.address(customerId: other.id, currency: "ETH") != eth)

            let purses = try await client.purses(customerId: customer.id)
            #expect(purses.map(\.id) == [eth.id, trx.id, btc.id])
            #expect(purses.allSatisfy { $0.status == .pendingPayment })
        }
    }

    @Test func expiredAndDeclinedPursesAreReplaced() async throws {
        try await withSandbox { sandbox, client in
            let customer = try await client.createCustomer(.init())
            let first = try await client.address(customerId: customer.id, currency: "ETH")
            try sandbox.expirePurse(id: first.id)
            let second = try await client.address(customerId: customer.id, currency: "USDT_BSC")
            #expect(second.id != first.id && second.address != first.address)

            var deposit = SandboxDeposit(customerId: customer.id, currency: "ETH", amount: try DecimalAmount("1"))
            deposit.outcome = .declined
            try sandbox.simulateDeposit(deposit)
            let third = try await client.address(customerId: customer.id, currency: "ETH")
            #expect(third.id != second.id)

            let statuses = try await client.purses(customerId: customer.id).map(\.status)
            #expect(statuses == [.archived, .declined, .pendingPayment])
        }
    }

    @Test func transactionGetAndFindCarryExactAmounts() async throws {
        try await withSandbox { sandbox, client in
            let customer = try await client.createCustomer(.init())
            _ = try await client.address(customerId: customer.id, currency: "ETH")
            _ = try await client.address(customerId: customer.id, currency: "BTC")
            let amounts = ["0.123456789012345678", "100000000000.5", "7"]
            var ids: [String] = []
            for (index, amount) in amounts.enumerated() {
                var deposit = SandboxDeposit(
                    customerId: customer.id,
                    currency: index == 2 ? "BTC" : "ETH",
                    amount: try DecimalAmount(amount)
                )
                deposit.outcome = index == 1 ? .declined : .confirmed
                ids.append(try sandbox.simulateDeposit(deposit).transactionId)
                if index == 1 { _ = try await client.address(customerId: customer.id, currency: "ETH") }
            }

            let first = try await client.transaction(id: ids[0])
            #expect(first.amount.description == "0.123456789012345678")
            #expect(first.transactionState == .confirmed && first.complianceState == .checked)
            #expect(first.translationToAccountCompleted)
            #expect(try await client.transaction(id: ids[1]).transactionState == .declined)

            let page0 = try await client.findTransactions(.init(customerId: customer.id, pageNumber: 0, pageSize: 2))
            #expect(page0.result.map(\.id) == [ids[0], ids[1]])
            #expect(page0.result.map(\.amount.description) == ["0.123456789012345678", "100000000000.5"])
            #expect((page0.total, page0.totalElements, page0.size) == (2, 3, 2))
            let page1 = try await client.findTransactions(.init(customerId: customer.id, pageNumber: 1, pageSize: 2))
            #expect(page1.result.map(\.id) == [ids[2]])

            let confirmedEth = try await client.findTransactions(
                .init(
                    currencyFilter: .init(equals: "ETH"),
                    transactionStateFilter: .init(in: ["CONFIRMED"])
                )
            )
            #expect(confirmedEth.result.map(\.id) == [ids[0]])
        }
    }

    @Test func transactionGetTrailsWebhooksByTheRequestedLag() async throws {
        try await withSandbox { sandbox, client in
            let customer = try await client.createCustomer(.init())
            _ = try await client.address(customerId: customer.id, currency: "TRX")
            var lagging = SandboxDeposit(customerId: customer.id, currency: "TRX", amount: try DecimalAmount("5"))
            lagging.apiLag = .seconds(3600)
            lagging.includesMempoolEvent = false
            let id = try sandbox.simulateDeposit(lagging).transactionId
            let seen = try await client.transaction(id: id)
            #expect(seen.transactionState == .pendingComplianceCheck)
            #expect(seen.complianceState == .inProgress)

            var later = SandboxDeposit(customerId: customer.id, currency: "TRX", amount: try DecimalAmount("6"))
            later.settlement = .later
            let laterId = try sandbox.simulateDeposit(later).transactionId
            #expect(try await !client.transaction(id: laterId).translationToAccountCompleted)
            try sandbox.settle(transactionId: laterId)
            #expect(try await client.transaction(id: laterId).translationToAccountCompleted)
        }
    }

    @Test func webhookSubscriptionsCreateListDelete() async throws {
        try await withSandbox { _, client in
            let request = CalypsoSubscriptionRequest(
                requestId: "a381f753-3079-4214-9720-b416fc35ca10",
                url: "http://127.0.0.1:9/hooks"
            )
            let created = try await client.createWebhookSubscription(request)
            #expect(created.requestId == request.requestId)
            #expect(created.publicKey.count == 32 && created.secretKey.count == 32)
            #expect(created.publicKey != merchantPair.key)
            #expect(try await client.webhookSubscriptions() == [created])
            try await client.deleteWebhookSubscription(requestId: request.requestId)
            #expect(try await client.webhookSubscriptions().isEmpty)
            let missing = await #expect(throws: CalypsoError.self) {
                try await client.deleteWebhookSubscription(requestId: request.requestId)
            }
            #expect(missing?.errorCode == CalypsoErrorCode.notFound)
        }
    }

    @Test func wrongSecretKeyAndStaleTimestampAreRefusedWithCalypsoCodes() async throws {
        try await withSandbox { sandbox, _ in
            let wrongSecret = try await makeClient(
                sandbox,
                credentials: .init(key: merchantPair.key, secret: "not-the-secret")
            )
            let wrongKey = try await makeClient(
                sandbox,
                credentials: .init(key: "unknown", secret: merchantPair.secret)
            )
            let stale = try await makeClient(sandbox) { $0.now = { Date().addingTimeInterval(-181) } }
            let future = try await makeClient(sandbox) { $0.now = { Date().addingTimeInterval(181) } }
            let justInside = try await makeClient(sandbox) { $0.now = { Date().addingTimeInterval(-170) } }
            for (client, code) in [(wrongSecret, "003"), (wrongKey, "002"), (stale, "011"), (future, "011")] {
                let error = await #expect(throws: CalypsoError.self) { try await client.createCustomer(.init()) }
                #expect(error?.code == .api)
                #expect(error?.errorCode == code)
                #expect(error?.status == 400)
                #expect(error?.isTransient == false)
            }
            #expect(try await !justInside.createCustomer(.init()).id.isEmpty)
            for client in [wrongSecret, wrongKey, stale, future, justInside] { try await client.shutdown() }
        }
    }

    @Test func badInputAndUnknownIdsArePermanent() async throws {
        try await withSandbox { _, client in
            let unknown = await #expect(throws: CalypsoError.self) { try await client.transaction(id: "nope") }
            #expect(unknown?.errorCode == "004")
            #expect(unknown?.isTransient == false)
            let customer = try await client.createCustomer(.init())
            let currency = await #expect(throws: CalypsoError.self) {
                try await client.address(customerId: customer.id, currency: "NOT_A_COIN")
            }
            #expect(currency?.errorCode == "001")
            #expect(currency?.isTransient == false)
        }
    }

    @Test func injectedErrorsTimeoutsAndRefusedConnectionsAreTransient() async throws {
        try await withSandbox { sandbox, client in
            for status in [500, 503, 429] {
                var faults = SandboxFaults()
                faults.apiErrorRate = 1
                faults.apiErrorStatus = status
                try sandbox.setFaults(faults)
                let error = await #expect(throws: CalypsoError.self) { try await client.createCustomer(.init()) }
                #expect(error?.status == status)
                #expect(error?.errorCode == "000")
                #expect(error?.isTransient == true)
            }
            var slow = SandboxFaults()
            slow.apiLatency = .seconds(2)
            try sandbox.setFaults(slow)
            let impatient = try await makeClient(sandbox) { $0.requestTimeout = .milliseconds(200) }
            let timeout = await #expect(throws: CalypsoError.self) { try await impatient.createCustomer(.init()) }
            try await impatient.shutdown()
            #expect(timeout?.code == .timeout)
            #expect(timeout?.isTransient == true)
            try sandbox.setFaults(SandboxFaults())
            #expect(try await !client.createCustomer(.init()).id.isEmpty)
        }
        // The sandbox is stopped now: its port refuses connections.
        var closed = CalypsoClient.Configuration(
            baseURL: "http://127.0.0.1:1",
            account: merchantAccount,
            credentials: merchantPair
        )
        closed.connectTimeout = .seconds(2)
        let client = CalypsoClient(configuration: closed)
        let refused = await #expect(throws: CalypsoError.self) { try await client.createCustomer(.init()) }
        try await client.shutdown()
        #expect(refused?.code == .transport || refused?.code == .timeout)
        #expect(refused?.isTransient == true)
    }
}
