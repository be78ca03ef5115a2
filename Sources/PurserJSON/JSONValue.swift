/// A JSON value that keeps what the sender wrote: numbers as their exact literal text and object
/// members in their original order.
///
/// Money travels through Purser as JSON, so a number is never converted to `Double` on the way:
/// `.number("0.123456789012345678")` is written back with exactly those digits.
/// Equality is structural and compares number literals as text (`1.0` and `1` differ).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number as its literal text, as the JSON grammar (RFC 8259) allows it. The writer emits the
    /// text unchanged: the parser guarantees a valid literal, and code building one must too.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

extension JSONValue {
    /// The members when this is an object, otherwise `nil`.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The text when this is a string, otherwise `nil`.
    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The literal text when this is a number, otherwise `nil`.
    public var numberLiteral: String? {
        if case .number(let literal) = self { return literal }
        return nil
    }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The member named `key` when this is an object.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// How many arrays and objects nest at the deepest point: 0 for a scalar, 1 for `[]` or `{}`.
    /// A document the parser reads never exceeds ``maximumDepth``.
    public var nestingDepth: Int {
        switch self {
        case .array(let elements): 1 + (elements.lazy.map(\.nestingDepth).max() ?? 0)
        case .object(let object): 1 + (object.members.lazy.map(\.value.nestingDepth).max() ?? 0)
        case .null, .bool, .number, .string: 0
        }
    }
}

/// The members of a JSON object in the order they were written or inserted.
///
/// Keys are unique: the parser rejects duplicates and assigning to an existing key replaces its
/// value in place.
public struct JSONObject: Sendable, Hashable {
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public private(set) var members: [Member]

    /// Up to this many members, finding one by name compares names; beyond, hashing them is cheaper
    /// (and keeps a hostile object with thousands of members linear).
    static let linearLookupLimit = 16

    public init() { members = [] }

    /// Builds an object from members; a repeated key keeps its first position and its last value.
    public init(_ pairs: [(String, JSONValue)]) {
        var positions: [String: Int] = [:]
        members = []
        members.reserveCapacity(pairs.count)
        for (key, value) in pairs {
            if let position = positions[key] {
                members[position].value = value
            } else {
                positions[key] = members.count
                members.append(Member(key: key, value: value))
            }
        }
    }

    /// Members whose keys the caller has already checked to be unique.
    init(uniqueMembers: [Member]) { members = uniqueMembers }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    /// The value of `key`; assigning `nil` removes the member, assigning a value keeps its position.
    public subscript(key: String) -> JSONValue? {
        get { members.first { $0.key == key }?.value }
        set {
            let index = members.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let index?, let value?): members[index].value = value
            case (let index?, nil): members.remove(at: index)
            case (nil, let value?): members.append(Member(key: key, value: value))
            case (nil, nil): break
            }
        }
    }

    /// Whether a member named `key` exists (its value may be `null`).
    public func contains(_ key: String) -> Bool {
        members.contains { $0.key == key }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}

extension JSONObject: Sequence {
    public func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByStringLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByIntegerLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
}
