import PurserRuntime
import PurserSchema

extension CloudEvent {
    /// The event as a Kafka record: keyed by its subject (the customer id), with the CloudEvents content
    /// type and the trace context as headers.
    ///
    /// - Parameter partition: The input record's partition. Every output topic a worker rebuilds state
    ///   from is co-partitioned with its input (same key, same partition count), and writing to the
    ///   input's partition keeps it so whatever partitioner the input's producer used.
    func outputRecord(topic: String, partition: Int32) -> OutputRecord {
        var headers = [
            RecordHeader(name: CloudEventEnvelope.contentTypeHeader, string: CloudEventEnvelope.contentType)
        ]
        if let traceparent { headers.append(RecordHeader(name: TraceHeader.name, string: traceparent.rawValue)) }
        return OutputRecord(topic: topic, key: subject ?? "", value: recordValue(), headers: headers, partition: partition)
    }
}

/// The Kafka header that repeats the event's `traceparent`, for tracing tools that read headers only.
enum TraceHeader {
    static let name = "traceparent"
}

extension InputRecord {
    /// The record's value as a CloudEvent of `Data`.
    ///
    /// - Throws: ``PermanentRecordError`` when the value is missing or not such an event: the record is
    ///   dead-lettered, since no retry can change its bytes.
    func event<Data: EventData>(of type: Data.Type) throws(PermanentRecordError) -> CloudEvent<Data> {
        guard let value else { throw PermanentRecordError("record at offset \(offset) has no value") }
        do {
            return try CloudEvent<Data>(recordValue: value)
        } catch {
            throw PermanentRecordError("not a \(Data.eventType) CloudEvent: \(error)")
        }
    }
}
