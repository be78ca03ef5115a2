import PurserJSON

/// A CloudEvents 1.0 event in structured JSON mode with its `data` still untyped: what a Kafka
/// record value holds before the reader knows (or cares about) the message type.
///
/// Attributes Purser does not define are kept in ``extensions`` and written back, so a record
/// read and re-published (replay, dead-letter redrive) loses nothing.
public struct CloudEventEnvelope: Sendable, Hashable {
    /// The Kafka header that marks a record value as a structured CloudEvent.
    public static let contentTypeHeader = "content-type"
    /// The value of ``contentTypeHeader``.
    public static let contentType = "application/cloudevents+json"
    public static let specVersion = "1.0"
    /// The `datacontenttype` of every Purser event.
    public static let dataContentType = "application/json"

    public var id: String
    /// The producing executable, e.g. `purser-deposit-crediter`.
    public var source: String
    public var type: EventType
    /// The customer id.
    public var subject: String?
    public var time: Timestamp?
    public var dataContentType: String?
    public var dataSchema: String?
    public var traceparent: TraceParent?
    public var data: JSONValue?
    /// Attributes other than the ones above, in their order.
    public var extensions: JSONObject

    public init(
        id: String,
        source: String,
        type: EventType,
        subject: String?,
        time: Timestamp?,
        dataContentType: String? = CloudEventEnvelope.dataContentType,
        dataSchema: String?,
        traceparent: TraceParent?,
        data: JSONValue?,
        extensions: JSONObject = [:]
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.dataContentType = dataContentType
        self.dataSchema = dataSchema
        self.traceparent = traceparent
        self.data = data
        self.extensions = extensions
    }

    private enum Attribute {
        static let specVersion = "specversion"
        static let id = "id"
        static let source = "source"
        static let type = "type"
        static let subject = "subject"
        static let time = "time"
        static let dataContentType = "datacontenttype"
        static let dataSchema = "dataschema"
        static let traceparent = "traceparent"
        static let data = "data"
        static let known: Set = [
            specVersion, id, source, type, subject, time, dataContentType, dataSchema, traceparent, data,
        ]
    }

    /// Reads a Kafka record value.
    /// - Throws: ``CloudEventError`` when the bytes are not JSON, not a CloudEvents 1.0 object,
    ///   or an attribute has the wrong type.
    public init(recordValue: some Collection<UInt8>) throws(CloudEventError) {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: recordValue)
        } catch {
            throw CloudEventError(reason: "record value is not JSON: \(error)")
        }
        guard case .object(let object) = json else {
            throw CloudEventError(reason: "record value is not a JSON object")
        }

        func string(_ name: String) throws(CloudEventError) -> String? {
            switch object[name] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            case let other?:
                throw CloudEventError(reason: "attribute \(name) is a \(other.typeName), expected a string")
            }
        }
        func required(_ name: String) throws(CloudEventError) -> String {
            guard let value = try string(name), !value.isEmpty else {
                throw CloudEventError(reason: "attribute \(name) is missing")
            }
            return value
        }

        let specVersion = try required(Attribute.specVersion)
        guard specVersion == Self.specVersion else {
            throw CloudEventError(reason: "specversion \(specVersion) is not supported, expected \(Self.specVersion)")
        }
        id = try required(Attribute.id)
        source = try required(Attribute.source)
        type = EventType(rawValue: try required(Attribute.type))
        subject = try string(Attribute.subject)
        if let timeText = try string(Attribute.time) {
            do {
                time = try Timestamp(rfc3339: timeText)
            } catch {
                throw CloudEventError(reason: "attribute time: \(error)")
            }
        } else {
            time = nil
        }
        dataContentType = try string(Attribute.dataContentType)
        dataSchema = try string(Attribute.dataSchema)
        traceparent = try string(Attribute.traceparent).map(TraceParent.init(rawValue:))
        data = object[Attribute.data]
        extensions = JSONObject(object.members.filter { !Attribute.known.contains($0.key) }.map { ($0.key, $0.value) })
    }

    /// The event as a compact JSON object, attributes in the CloudEvents order, `data` last.
    public func recordValue() -> [UInt8] { jsonValue.serialized() }

    /// The event as a JSON object, attributes in the CloudEvents order, `data` last.
    public var jsonValue: JSONValue {
        var object: JSONObject = [
            Attribute.specVersion: .string(Self.specVersion),
            Attribute.id: .string(id),
            Attribute.source: .string(source),
            Attribute.type: .string(type.rawValue),
        ]
        object[Attribute.subject] = subject.map(JSONValue.string)
        object[Attribute.time] = time.map { .string($0.description) }
        object[Attribute.dataContentType] = dataContentType.map(JSONValue.string)
        object[Attribute.dataSchema] = dataSchema.map(JSONValue.string)
        object[Attribute.traceparent] = traceparent.map { .string($0.rawValue) }
        for member in extensions where !Attribute.known.contains(member.key) { object[member.key] = member.value }
        object[Attribute.data] = data
        return .object(object)
    }
}

/// Why a record value is not the expected CloudEvent. Safe to log: it names attributes and members
/// and never quotes the record.
public struct CloudEventError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) { self.reason = reason }

    public var description: String { "invalid CloudEvent: \(reason)" }
}
