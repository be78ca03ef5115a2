import PurserJSON

/// A CloudEvents 1.0 event whose `data` is a known Purser message type.
///
/// Every executable writes and reads record values with ``recordValue()`` and
/// ``init(recordValue:)``. Members of `data` this version does not know are kept in
/// ``unknownDataFields`` and written back, as are unknown envelope attributes.
public struct CloudEvent<Data: EventData>: Sendable, Hashable {
    public var id: String
    public var source: String
    public var subject: String?
    public var time: Timestamp
    public var dataSchema: String
    public var traceparent: TraceParent?
    public var data: Data
    /// Members of `data` that ``Data`` does not declare, in their order.
    public var unknownDataFields: JSONObject
    /// Envelope attributes Purser does not define.
    public var extensions: JSONObject

    public var type: EventType { Data.eventType }

    /// A new event about `data`.
    ///
    /// - Parameters:
    ///   - source: the producing executable, e.g. `purser-deposit-crediter`.
    ///   - time: when the event happened. Default: now.
    ///   - traceparent: the trace this event belongs to; pass the input's ``TraceParent/childSpan()``.
    /// The id is ``EventID/deterministic(type:key:)`` of ``EventData/idempotencyKey`` when the
    /// type has one, otherwise random; the subject is ``EventData/subject``.
    public init(data: Data, source: String, time: Timestamp = .now, traceparent: TraceParent?) {
        self.id = data.idempotencyKey.map { EventID.deterministic(type: Data.eventType, key: $0) } ?? EventID.random()
        self.source = source
        self.subject = data.subject
        self.time = time
        self.dataSchema = Data.eventType.dataschema
        self.traceparent = traceparent
        self.data = data
        self.unknownDataFields = [:]
        self.extensions = [:]
    }

    /// Reads a Kafka record value.
    /// - Throws: ``CloudEventError`` when the value is not a CloudEvent of type ``Data``.
    public init(recordValue: some Collection<UInt8>) throws(CloudEventError) {
        try self.init(envelope: try CloudEventEnvelope(recordValue: recordValue))
    }

    /// The Kafka record value: structured-mode CloudEvents JSON.
    public func recordValue() -> [UInt8] { envelope().recordValue() }

    /// Types an envelope.
    /// - Throws: ``CloudEventError`` when its type is not ``Data``'s, or its `data` does not decode.
    public init(envelope: CloudEventEnvelope) throws(CloudEventError) {
        guard envelope.type == Data.eventType else {
            throw CloudEventError(reason: "type \(envelope.type) where \(Data.eventType) was expected")
        }
        guard case .object(let dataObject)? = envelope.data else {
            throw CloudEventError(reason: "data of \(Data.eventType) is missing or not a JSON object")
        }
        do {
            data = try JSONValueDecoder().decode(Data.self, from: .object(dataObject))
        } catch {
            throw CloudEventError(reason: "data of \(Data.eventType): \(Self.describe(error))")
        }
        let declared = Set(Data.fields.map(\.name))
        unknownDataFields = JSONObject(
            dataObject.members.filter { !declared.contains($0.key) }.map { ($0.key, $0.value) }
        )
        id = envelope.id
        source = envelope.source
        subject = envelope.subject
        guard let time = envelope.time else { throw CloudEventError(reason: "attribute time is missing") }
        self.time = time
        dataSchema = envelope.dataSchema ?? Data.eventType.dataschema
        traceparent = envelope.traceparent
        extensions = envelope.extensions
    }

    /// The untyped form, e.g. to forward the event to another topic.
    public func envelope() -> CloudEventEnvelope {
        var dataObject: JSONObject
        do {
            dataObject = try JSONValueEncoder().encode(data).objectValue ?? [:]
        } catch {
            // Message types hold only strings, booleans, exact decimals and JSON values, which always encode.
            preconditionFailure("\(Data.self) failed to encode: \(error)")
        }
        for member in unknownDataFields where !dataObject.contains(member.key) { dataObject[member.key] = member.value }
        return CloudEventEnvelope(
            id: id,
            source: source,
            type: Data.eventType,
            subject: subject,
            time: time,
            dataSchema: dataSchema,
            traceparent: traceparent,
            data: .object(dataObject),
            extensions: extensions
        )
    }

    /// A decoding error as one line naming the member.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [any CodingKey]) -> String { keys.map(\.stringValue).joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let context): return "member \(path(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "member \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
