import Calypso
import CalypsoSandbox
import PurserSchema
import Testing
import Tracing

/// The client sends the current trace to Calypso as a child span in the W3C `traceparent` header.
@Suite(.serialized) struct CalypsoTracingTests {
    static let customerCreate = "/api/v1/customer-purse/customer/create"

    @Test func aCallInsideATraceSendsAChildSpanOfIt() async throws {
        let record = TraceParent.random()
        try await withSandbox { sandbox, client in
            var context = ServiceContext.topLevel
            context.traceParent = record
            _ = try await ServiceContext.withValue(context) { try await client.createCustomer(.init()) }
            _ = try await ServiceContext.withValue(context) { try await client.createCustomer(.init()) }

            let sent = sandbox.receivedTraceParents(path: Self.customerCreate).map(TraceParent.init(rawValue:))
            #expect(sent.count == 2)
            #expect(sent.allSatisfy { $0.isValid && $0.traceID == record.traceID && $0 != record })
            #expect(Set(sent).count == 2, "each call is a span of its own")
        }
    }

    @Test func aCallOutsideAnyTraceSendsNoTraceparent() async throws {
        try await withSandbox { sandbox, client in
            _ = try await client.createCustomer(.init())
            #expect(sandbox.receivedTraceParents(path: Self.customerCreate).isEmpty)
        }
    }
}
