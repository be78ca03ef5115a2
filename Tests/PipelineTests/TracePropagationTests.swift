import CalypsoSandbox
import PurserKafka
import PurserSchema
import PurserTesting
import PurserWorkers
import Testing

/// One trace per webhook, from ingest through every topic and into the Calypso calls the workers make.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct TracePropagationTests {
    static let transactionGet = "/api/v1/customer-purse/transaction/get"
    static let addressGet = "/api/v1/customer-purse/address/get"

    @Test("a credited deposit and a renewed purse keep their webhook's trace, with a new span per hop")
    func everyHopAndCalypsoCallJoinsTheWebhooksTrace() async throws {
        let pipeline = try await Pipeline()
        let depositor = try await pipeline.customer()
        let expiring = try await pipeline.customer()
        let receipt = try pipeline.sandbox.simulateDeposit(
            SandboxDeposit(customerId: depositor.id, currency: "ETH", amount: try DecimalAmount("1.25"))
        )
        try pipeline.sandbox.expirePurse(id: expiring.purse.id)

        let workers = try pipeline.startWorkers()
        let topics = pipeline.topics
        try await pipeline.eventually {
            let credited = try await pipeline.count(topics.depositsCredited)
            let renewed = try await pipeline.count(topics.pursesRenewed)
            return credited >= 1 && renewed >= 1
        }
        try await workers.stop()

        // The deposit: webhook → transaction update → approval → credit, all on the credit's trace.
        let credit = try #require(try await pipeline.events(DepositCredited.self, in: topics.depositsCredited).first)
        let traceID = try #require(credit.traceparent?.traceID)
        let webhooks = try await pipeline.events(WebhookReceived.self, in: topics.webhooks).filter {
            $0.traceparent?.traceID == traceID
        }
        let updates = try await pipeline.events(TransactionUpdated.self, in: topics.transactions).filter {
            $0.traceparent?.traceID == traceID
        }
        let approvals = try await pipeline.events(DepositApproved.self, in: topics.depositsApproved).filter {
            $0.traceparent?.traceID == traceID
        }
        #expect(webhooks.map(\.data.eventType) == [.fundsReceived])
        #expect(webhooks.first?.data.payload["transactionId"]?.stringValue == receipt.transactionId)
        #expect(updates.map(\.data.transactionId) == [receipt.transactionId])
        #expect(approvals.map(\.data.deposit.transactionId) == [receipt.transactionId])
        let depositPath = [webhooks.first?.traceparent, updates.first?.traceparent, approvals.first?.traceparent]
            + [credit.traceparent]
        let depositSpans = depositPath.compactMap { $0 }
        #expect(depositSpans.count == 4 && depositSpans.allSatisfy(\.isValid))
        #expect(Set(depositSpans).count == 4, "each hop names a span of its own")

        // The fetcher's transaction/get carried the deposit's trace, as a span of its own.
        let fetches = pipeline.sandbox.receivedTraceParents(path: Self.transactionGet).map(TraceParent.init(rawValue:))
        let depositFetches = fetches.filter { $0.traceID == traceID }
        #expect(!depositFetches.isEmpty)
        #expect(depositFetches.allSatisfy { $0.isValid && !depositSpans.contains($0) })

        // The expiry: webhook → renewal, and the renewer's address/get, on the expiry webhook's trace.
        let renewal = try #require(try await pipeline.events(PurseRenewed.self, in: topics.pursesRenewed).first)
        let renewalTrace = try #require(renewal.traceparent?.traceID)
        let expiries = try await pipeline.events(WebhookReceived.self, in: topics.webhooks).filter {
            $0.traceparent?.traceID == renewalTrace
        }
        #expect(expiries.map(\.data.eventType.rawValue) == [RenewalRule.expiredEventType])
        #expect(expiries.first?.data.payload["purseId"]?.stringValue == expiring.purse.id)
        #expect(expiries.first?.traceparent != renewal.traceparent)
        let lookups = pipeline.sandbox.receivedTraceParents(path: Self.addressGet).map(TraceParent.init(rawValue:))
        let renewalLookups = lookups.filter { $0.traceID == renewalTrace }
        #expect(!renewalLookups.isEmpty)
        #expect(renewalLookups.allSatisfy { $0 != renewal.traceparent && $0 != expiries.first?.traceparent })
        #expect(renewalTrace != traceID)
        try await pipeline.stop()
    }
}
