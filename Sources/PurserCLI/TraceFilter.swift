import PurserKafka
import PurserSchema

/// Which records belong to one trace, for `tail --trace`.
enum TraceFilter {
    /// The trace id `text` names: itself when it is 32 lowercase hex digits, else the trace id of a valid
    /// `traceparent`; nil otherwise.
    static func traceID(_ text: String) -> String? {
        let lowered = text.lowercased()
        if lowered.utf8.count == 32, lowered.allSatisfy(\.isHexDigit), lowered.contains(where: { $0 != "0" }) {
            return lowered
        }
        return TraceParent(rawValue: lowered).traceID
    }

    /// Whether the event's `traceparent`, or for a value that is no CloudEvent the record's
    /// `traceparent` header, carries `traceID`.
    static func record(_ record: ConsumerRecord, event: CloudEventEnvelope?, belongsTo traceID: String) -> Bool {
        let traceparent = event?.traceparent ?? record.header("traceparent").map(TraceParent.init(rawValue:))
        return traceparent?.traceID == traceID
    }
}
