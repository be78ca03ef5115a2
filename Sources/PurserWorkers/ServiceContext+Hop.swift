import Calypso
import PurserSchema
import Tracing

/// Runs `operation` with `hop`, the span of the record being handled, as the current trace context, so
/// the Calypso calls it makes become child spans of the record's trace.
///
/// A bootstrapped tracer also gets `hop` through its own extraction, so its spans join the same trace.
func withTraceParent<Result>(_ hop: TraceParent?, _ operation: () async throws -> Result) async rethrows -> Result {
    var context = ServiceContext.current ?? .topLevel
    if let hop {
        context.traceParent = hop
        InstrumentationSystem.instrument.extract(["traceparent": hop.rawValue], into: &context, using: TraceExtractor())
    }
    return try await ServiceContext.withValue(context, operation: operation)
}

/// Reads propagation fields from a plain dictionary.
private struct TraceExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
