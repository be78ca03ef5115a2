import AsyncHTTPClient
import Calypso
import CalypsoSandbox
import Foundation
import NIOCore
import NIOHTTP1
import PurserJSON
import PurserSchema
import Testing

/// The `/sandbox/` endpoints and the raw API bytes, over HTTP.
@Suite(.serialized) struct SandboxControlTests {
    struct Answer {
        var status: Int
        var json: JSONValue
    }

    static func send(_ method: HTTPMethod, _ url: String, _ body: String? = nil, headers: [(String, String)] = [])
        async throws -> Answer
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let json = bytes.readableBytes == 0 ? JSONValue.null : try JSONValue(parsing: bytes.readableBytesView)
        return Answer(status: Int(response.status.code), json: json)
    }

    @Test func depositsSettlementExpiryFaultsAndLedgerOverHTTP() async throws {
        try await withSandbox { sandbox, client in
            let base = try await sandbox.baseURL()
            let customer = try await client.createCustomer(.init())
            let purse = try await client.address(customerId: customer.id, currency: "USDT_TRX")

            let confirmed = try await Self.send(
                .POST,
                "\(base)/sandbox/deposits",
                #"{"customerId":"\#(customer.id)","currency":"TRX","amount":"0.000000000000000001","settle":"later"}"#
            )
            #expect(confirmed.status == 200)
            #expect(confirmed.json["purseId"] == .string(purse.id))
            #expect(confirmed.json["address"] == .string(purse.address))
            let transactionId = try #require(confirmed.json["transactionId"]?.stringValue)
            #expect(try await Self.send(.POST, "\(base)/sandbox/deposits/\(transactionId)/settle").status == 200)
            #expect(try await Self.send(.POST, "\(base)/sandbox/deposits/\(transactionId)/settle").status == 400)
            #expect(try await Self.send(.POST, "\(base)/sandbox/deposits/unknown/settle").status == 404)

            let unknown = try await Self.send(
                .POST,
                "\(base)/sandbox/deposits",
                #"{"customerId":"nobody","currency":"TRX","amount":"1"}"#
            )
            #expect(unknown.status == 404)
            #expect(unknown.json["errorCode"] == "004")
            #expect(try await Self.send(.POST, "\(base)/sandbox/deposits", "not json").status == 400)

            for amount in ["1e-3", "-1", "0.0000000000000000001", "0"] {
                let refused = try await Self.send(
                    .POST,
                    "\(base)/sandbox/deposits",
                    #"{"customerId":"\#(customer.id)","currency":"TRX","amount":"\#(amount)"}"#
                )
                #expect(refused.status == 400, "amount \(amount)")
                #expect(refused.json["errorCode"] == "001")
            }

            let expired = try await Self.send(
                .POST,
                "\(base)/sandbox/purses/expire",
                #"{"customerId":"\#(customer.id)","currency":"TRX"}"#
            )
            #expect(expired.json["id"] == .string(purse.id))
            #expect(
                try await Self.send(.POST, "\(base)/sandbox/purses/expire", #"{"purseId":"\#(purse.id)"}"#).status
                    == 400
            )

            let faults = try await Self.send(
                .PUT,
                "\(base)/sandbox/faults",
                #"{"duplicateDeliveryRate":0.5,"apiLagMs":250}"#
            )
            #expect(faults.json["duplicateDeliveryRate"] == .number("0.5"))
            #expect(faults.json["apiLagMs"] == 250)
            #expect(faults.json["apiErrorRate"] == .number("0.0"))
            #expect(sandbox.faults.apiLag == .milliseconds(250))
            #expect(try await Self.send(.PUT, "\(base)/sandbox/faults", #"{"apiErrorRate":2}"#).status == 400)
            #expect(sandbox.faults.duplicateDeliveryRate == 0.5)

            let ledger = try await Self.send(.GET, "\(base)/sandbox/ledger")
            let entry = try #require(ledger.json["customers"]?.elements?.first)
            #expect(entry["customerId"] == .string(customer.id))
            #expect(entry["confirmed"]?.elements?.first?["amount"] == "0.000000000000000001")
            #expect(entry["confirmed"]?.elements?.first?["translationToAccountCompleted"] == true)
        }
    }

    @Test func controlClientDrivesTheSandboxOverHTTP() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withSandbox { sandbox, client in
                let control = SandboxControlClient(baseURL: try await sandbox.baseURL())
                let subscription = try await client.createWebhookSubscription(.init(requestId: "sub-1", url: url))
                let customer = try await client.createCustomer(.init())
                let purse = try await client.address(customerId: customer.id, currency: "USDT_BSC")

                var deposit = SandboxDeposit(
                    customerId: customer.id,
                    currency: "ETH",
                    amount: try DecimalAmount("0.000000000000000042")
                )
                deposit.settlement = .later
                deposit.includesMempoolEvent = false
                let receipt = try await control.simulateDeposit(deposit)
                #expect(receipt.purseId == purse.id && receipt.address == purse.address)
                try await control.settle(transactionId: receipt.transactionId)
                // transaction/get follows the webhooks: settled once the third one went out.
                #expect(try await eventually { receiver.received.count == 3 })
                #expect(try await client.transaction(id: receipt.transactionId).translationToAccountCompleted)

                var faults = SandboxFaults()
                faults.apiLag = .milliseconds(1500)
                faults.duplicateDeliveryRate = 0.1
                #expect(try await control.setFaults(faults) == faults)
                #expect(try await control.faults() == faults)
                #expect(sandbox.faults == faults)

                #expect(try await control.expirePurse(customerId: customer.id, currency: "ETH") == purse)
                let refused = await #expect(throws: SandboxError.self) { try await control.expirePurse(id: purse.id) }
                #expect(refused?.status == 400 && refused?.errorCode == "001")

                let ledger = try await control.ledger()
                #expect(ledger == sandbox.ledger())
                #expect(ledger.customer(customer.id)?.confirmed.map(\.amount) == ["0.000000000000000042"])

                #expect(try await eventually { receiver.received.count == 4 })
                let statistics = try await control.deliveryStatistics(requestId: subscription.requestId)
                #expect(statistics.delivered == 4 && statistics.attempts == 4)
                try await control.unblockSubscription(requestId: subscription.requestId)
                let missing = await #expect(throws: SandboxError.self) {
                    try await control.deliveryStatistics(requestId: "unknown")
                }
                #expect(missing?.status == 404)
            }
        }
    }

    @Test func ledgerSeparatesConfirmedDeclinedAndBlockedDeposits() async throws {
        try await withSandbox { sandbox, client in
            let customer = try await client.createCustomer(.init())
            _ = try await client.address(customerId: customer.id, currency: "BTC")
            try sandbox.simulateDeposit(
                SandboxDeposit(customerId: customer.id, currency: "BTC", amount: try DecimalAmount("0.5"))
            )
            _ = try await client.blockCustomer(id: customer.id)
            try sandbox.simulateDeposit(
                SandboxDeposit(customerId: customer.id, currency: "BTC", amount: try DecimalAmount("0.25"))
            )
            var declined = SandboxDeposit(customerId: customer.id, currency: "BTC", amount: try DecimalAmount("9"))
            declined.outcome = .declined
            try sandbox.simulateDeposit(declined)
            var pending = SandboxDeposit(customerId: customer.id, currency: "BTC", amount: try DecimalAmount("1"))
            pending.settlement = .never
            #expect(throws: SandboxError.self) { try sandbox.simulateDeposit(pending) }  // the purse is declined now

            let ledger = try #require(sandbox.ledger().customer(customer.id))
            #expect(ledger.blocked)
            #expect(ledger.confirmed.map(\.amount) == ["0.5", "0.25"])
            #expect(ledger.confirmed.map(\.customerBlocked) == [false, true])
            #expect(ledger.declined.map(\.amount) == ["9"])
        }
    }

    @Test func apiAnswersCarryAmountsAsJSONNumbersWithTheExactDigits() async throws {
        try await withSandbox { sandbox, client in
            let customer = try await client.createCustomer(.init())
            _ = try await client.address(customerId: customer.id, currency: "ETH")
            let receipt = try sandbox.simulateDeposit(
                SandboxDeposit(
                    customerId: customer.id,
                    currency: "ETH",
                    amount: try DecimalAmount("1234567.000000000000000001")
                )
            )
            let body =
                #"{"account":"\#(merchantAccount)","timestamp":\#(Int64(Date().timeIntervalSince1970 * 1000)),"payload":{"transactionId":"\#(receipt.transactionId)"}}"#
            let answer = try await Self.send(
                .POST,
                "\(try await sandbox.baseURL())/api/v1/customer-purse/transaction/get",
                body,
                headers: [
                    ("Content-Type", "application/json"), ("Key", merchantPair.key),
                    ("Sign", CalypsoSignature.sign(Array(body.utf8), secret: merchantPair.secret)),
                ]
            )
            #expect(answer.status == 200)
            #expect(answer.json["amount"] == .number("1234567.000000000000000001"))
            #expect(answer.json["transactionState"] == "CONFIRMED")
        }
    }

    @Test func sameSeedSameIdsAndAddresses() async throws {
        func run() async throws -> [String] {
            try await withSandbox(sandboxConfiguration(seed: 99)) { sandbox, client in
                let customer = try await client.createCustomer(.init())
                let purse = try await client.address(customerId: customer.id, currency: "ETH")
                let receipt = try sandbox.simulateDeposit(
                    SandboxDeposit(customerId: customer.id, currency: "ETH", amount: try DecimalAmount("1"))
                )
                let hash = try await client.transaction(id: receipt.transactionId).transactionHash ?? ""
                return [customer.id, purse.id, purse.address, receipt.transactionId, hash]
            }
        }
        let first = try await run()
        #expect(try await run() == first)
        #expect(Set(first).count == 5)
    }
}

extension JSONValue {
    var elements: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }
}
