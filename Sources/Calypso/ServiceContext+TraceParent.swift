import NIOHTTP1
import PurserSchema
import Tracing

extension ServiceContext {
    /// The W3C trace context of the work in progress, e.g. the span of the worker hop handling a record.
    ///
    /// ``CalypsoClient`` sends a child of it as the `traceparent` header when no bootstrapped tracer
    /// injected one, so Calypso's side of a call joins the record's trace even without a tracer.
    public var traceParent: TraceParent? {
        get { self[TraceParentKey.self] }
        set { self[TraceParentKey.self] = newValue }
    }
}

private enum TraceParentKey: ServiceContextKey {
    typealias Value = TraceParent
    static var nameOverride: String? { "traceparent" }
}

/// Writes a tracer's propagation fields into request headers.
struct HTTPHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: key, value: value)
    }
}
