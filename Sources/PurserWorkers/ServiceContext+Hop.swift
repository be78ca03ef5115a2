import Calypso
import PurserSchema
import Tracing

/// Runs `operation` with `hop`, the span of the record being handled, as the current trace context, so
/// the Calypso calls it makes become child spans of the record's trace.
func withTraceParent<Result>(_ hop: TraceParent?, _ operation: () async throws -> Result) async rethrows -> Result {
    var context = ServiceContext.current ?? .topLevel
    context.traceParent = hop
    return try await ServiceContext.withValue(context, operation: operation)
}
