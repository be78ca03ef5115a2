/// The `data` of one message type: its CloudEvents type, how its id is derived, and a description
/// of its fields from which the JSON Schema in `topics/schemas/` is generated.
///
/// ``fields`` must list exactly the members the type encodes, in encoding order, with the members
/// that decoding requires marked required; the schema tests check both against the Codable
/// conformance through ``example``.
public protocol EventData: Codable, Hashable, Sendable {
    /// The CloudEvents `type`.
    static var eventType: EventType { get }
    /// One sentence for the schema's description.
    static var summary: String { get }
    static var fields: [FieldSchema] { get }
    /// A realistic value with every optional field set; the schema's example.
    static var example: Self { get }

    /// The customer the event is about: the CloudEvents `subject` and the Kafka key.
    var subject: String? { get }
    /// The input that identifies this event, from which ``EventID/deterministic(type:key:)`` makes
    /// its id; `nil` when the event is not a function of its input (a random id is used).
    var idempotencyKey: String? { get }
}

/// One member of an ``EventData``'s JSON object.
public struct FieldSchema: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case string
        /// A ``DecimalAmount``: a JSON string of exact decimal digits.
        case decimalAmount
        case boolean
        /// A ``Timestamp``: RFC 3339 in UTC with milliseconds.
        case timestamp
        /// An ``OpenEnumeration``: one of the known values or any other string.
        case openEnumeration([String])
        /// Any JSON object, kept exactly as received.
        case object
    }

    public var name: String
    public var kind: Kind
    public var isRequired: Bool
    public var summary: String

    public static func required(_ name: String, _ kind: Kind, _ summary: String) -> FieldSchema {
        FieldSchema(name: name, kind: kind, isRequired: true, summary: summary)
    }

    public static func optional(_ name: String, _ kind: Kind, _ summary: String) -> FieldSchema {
        FieldSchema(name: name, kind: kind, isRequired: false, summary: summary)
    }
}

extension FieldSchema.Kind {
    /// The open enumeration of `type`'s known values.
    public static func choice<T: OpenEnumeration>(_ type: T.Type) -> Self {
        .openEnumeration(T.knownValues.map(\.rawValue))
    }
}

/// Every message type Purser publishes, in topic order.
public enum MessageTypes {
    public static let all: [any EventData.Type] = [
        WebhookReceived.self, TransactionUpdated.self, CustomerChanged.self, DepositApproved.self,
        DepositCredited.self, DepositHeld.self, DepositDeclined.self, PurseRenewed.self,
    ]

    /// The data type of a CloudEvents `type`, when Purser knows it.
    public static func dataType(of type: EventType) -> (any EventData.Type)? {
        all.first { $0.eventType == type }
    }
}
