import Foundation

/// Encodes `Encodable` types to a ``JSONValue`` or to compact JSON bytes.
///
/// - A property of type ``JSONValue`` is written verbatim (exact number digits, member order and
///   unknown members kept), so a Calypso payload survives re-encoding byte for byte.
/// - Object members appear in the order the type encodes them (for synthesized `Codable`, the
///   declaration order); `nil` optionals encoded with `encodeIfPresent` are left out.
/// - Integers and `Decimal` are written as exact literals; a non-finite `Double` is an error.
public struct JSONValueEncoder: Sendable {
    public init() {}

    /// - Throws: `EncodingError` when a value cannot be represented (e.g. `Double.nan`) or
    ///   encodes nothing.
    public func encode(_ value: some Encodable) throws -> JSONValue {
        let root = EncodingNode()
        try ValueEncoder(node: root, codingPath: []).encodeValue(value)
        guard let encoded = root.resolve() else {
            throw EncodingError.invalidValue(
                value,
                .init(codingPath: [], debugDescription: "\(type(of: value)) encoded no value")
            )
        }
        return encoded
    }

    /// The value as compact JSON bytes.
    public func encodeToBytes(_ value: some Encodable) throws -> [UInt8] {
        try encode(value).serialized()
    }
}

/// What one container or value has encoded so far. Nested containers hold references to their
/// children because `Encoder` hands out containers that outlive the call that created them.
private final class EncodingNode {
    enum Content {
        case unset
        case value(JSONValue)
        /// Members in encoding order; `index` locates them by name once there are more than
        /// ``JSONObject/linearLookupLimit``.
        case object(members: [(key: String, node: EncodingNode)], index: [String: Int]?)
        case array([EncodingNode])
    }

    var content = Content.unset

    func resolve() -> JSONValue? {
        switch content {
        case .unset: return nil
        case .value(let value): return value
        case .object(let members, _):
            // Names are unique by construction (``member(_:)``).
            return .object(
                JSONObject(uniqueMembers: members.compactMap { member in
                    member.node.resolve().map { JSONObject.Member(key: member.key, value: $0) }
                })
            )
        case .array(let nodes): return .array(nodes.map { $0.resolve() ?? .null })
        }
    }

    /// The child for `key`, created at the end of the member order on first use.
    func member(_ key: String) -> EncodingNode {
        guard case .object(var members, var index) = content else {
            let child = EncodingNode()
            content = .object(members: [(key, child)], index: nil)
            return child
        }
        if let index {
            if let position = index[key] { return members[position].node }
        } else if let existing = members.first(where: { $0.key == key }) {
            return existing.node
        }
        // Clearing `content` first leaves the extracted collections uniquely referenced, so the
        // appends below do not copy them: encoding stays linear in the number of members.
        content = .unset
        let child = EncodingNode()
        if index == nil, members.count >= JSONObject.linearLookupLimit {
            index = Dictionary(uniqueKeysWithValues: members.indices.map { (members[$0].key, $0) })
        }
        index?[key] = members.count
        members.append((key, child))
        content = .object(members: members, index: index)
        return child
    }

    func appendElement() -> EncodingNode {
        let child = EncodingNode()
        guard case .array(var nodes) = content else {
            content = .array([child])
            return child
        }
        content = .unset
        nodes.append(child)
        content = .array(nodes)
        return child
    }

    var elementCount: Int {
        if case .array(let nodes) = content { return nodes.count }
        return 0
    }

    func becomeObject() {
        if case .object = content { return }
        content = .object(members: [], index: nil)
    }

    func becomeArray() {
        if case .array = content { return }
        content = .array([])
    }
}

private struct ValueEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func encodeValue<T: Encodable>(_ value: T) throws {
        if let json = Self.direct(value) {
            node.content = .value(json)
        } else {
            try value.encode(to: self)
        }
    }

    /// The JSON of a value that needs no encoder of its own: a ``JSONValue`` verbatim, a `Decimal`'s
    /// exact digits, a string. Types are compared before casting: a failed dynamic cast of every
    /// encoded value costs more.
    static func direct<T: Encodable>(_ value: T) -> JSONValue? {
        if T.self == JSONValue.self { return value as? JSONValue }
        if T.self == String.self { return (value as? String).map(JSONValue.string) }
        if T.self == Decimal.self { return (value as? Decimal).map { .number($0.description) } }
        return nil
    }

    func child(_ node: EncodingNode, key: any CodingKey) -> ValueEncoder {
        ValueEncoder(node: node, codingPath: codingPath + [key])
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.becomeObject()
        return KeyedEncodingContainer(KeyedContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.becomeArray()
        return UnkeyedContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueContainer(encoder: self) }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: ValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    func set(_ value: JSONValue) { encoder.node.content = .value(value) }

    func floatingPoint<T: BinaryFloatingPoint & CustomStringConvertible>(_ value: T) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value,
                .init(codingPath: codingPath, debugDescription: "\(value) cannot be written as a JSON number")
            )
        }
        set(.number(value.description))
    }

    func encodeNil() { set(.null) }
    func encode(_ value: Bool) { set(.bool(value)) }
    func encode(_ value: String) { set(.string(value)) }
    func encode(_ value: Double) throws { try floatingPoint(value) }
    func encode(_ value: Float) throws { try floatingPoint(value) }
    func encode(_ value: Int) { set(.integer(value)) }
    func encode(_ value: Int8) { set(.integer(value)) }
    func encode(_ value: Int16) { set(.integer(value)) }
    func encode(_ value: Int32) { set(.integer(value)) }
    func encode(_ value: Int64) { set(.integer(value)) }
    func encode(_ value: UInt) { set(.integer(value)) }
    func encode(_ value: UInt8) { set(.integer(value)) }
    func encode(_ value: UInt16) { set(.integer(value)) }
    func encode(_ value: UInt32) { set(.integer(value)) }
    func encode(_ value: UInt64) { set(.integer(value)) }
    func encode<T: Encodable>(_ value: T) throws { try encoder.encodeValue(value) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: ValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    func member(_ key: Key) -> ValueEncoder { encoder.child(encoder.node.member(key.stringValue), key: key) }

    /// Sets a member whose JSON is known without a child encoder (and its coding path): most members.
    func set(_ value: JSONValue, forKey key: Key) { encoder.node.member(key.stringValue).content = .value(value) }

    mutating func encodeNil(forKey key: Key) { set(.null, forKey: key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if let json = ValueEncoder.direct(value) {
            set(json, forKey: key)
        } else {
            try member(key).encodeValue(value)
        }
    }
    mutating func encode(_ value: Bool, forKey key: Key) { set(.bool(value), forKey: key) }
    mutating func encode(_ value: String, forKey key: Key) { set(.string(value), forKey: key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: Int, forKey key: Key) { set(.integer(value), forKey: key) }
    mutating func encode(_ value: Int8, forKey key: Key) { set(.integer(value), forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) { set(.integer(value), forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) { set(.integer(value), forKey: key) }
    mutating func encode(_ value: Int64, forKey key: Key) { set(.integer(value), forKey: key) }
    mutating func encode(_ value: UInt, forKey key: Key) { set(.integer(value), forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) { set(.integer(value), forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) { set(.integer(value), forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) { set(.integer(value), forKey: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) { set(.integer(value), forKey: key) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        member(key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        member(key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        encoder.child(encoder.node.member("super"), key: AnyCodingKey(stringValue: "super"))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder { member(key) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: ValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { encoder.node.elementCount }

    func next() -> ValueEncoder {
        let index = count
        return encoder.child(encoder.node.appendElement(), key: AnyCodingKey(intValue: index))
    }

    /// Appends an element whose JSON is known without a child encoder (and its coding path).
    func append(_ value: JSONValue) { encoder.node.appendElement().content = .value(value) }

    mutating func encodeNil() { append(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        if let json = ValueEncoder.direct(value) {
            append(json)
        } else {
            try next().encodeValue(value)
        }
    }
    mutating func encode(_ value: Bool) { append(.bool(value)) }
    mutating func encode(_ value: String) { append(.string(value)) }
    mutating func encode(_ value: Double) throws { try next().encodeValue(value) }
    mutating func encode(_ value: Float) throws { try next().encodeValue(value) }
    mutating func encode(_ value: Int) { append(.integer(value)) }
    mutating func encode(_ value: Int8) { append(.integer(value)) }
    mutating func encode(_ value: Int16) { append(.integer(value)) }
    mutating func encode(_ value: Int32) { append(.integer(value)) }
    mutating func encode(_ value: Int64) { append(.integer(value)) }
    mutating func encode(_ value: UInt) { append(.integer(value)) }
    mutating func encode(_ value: UInt8) { append(.integer(value)) }
    mutating func encode(_ value: UInt16) { append(.integer(value)) }
    mutating func encode(_ value: UInt32) { append(.integer(value)) }
    mutating func encode(_ value: UInt64) { append(.integer(value)) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        next().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { next().unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { next() }
}

extension JSONValue {
    /// An integer's exact digits.
    fileprivate static func integer(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }
}
