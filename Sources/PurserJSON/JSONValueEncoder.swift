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
        case object(keys: [String], children: [String: EncodingNode])
        case array([EncodingNode])
    }

    var content = Content.unset

    func resolve() -> JSONValue? {
        switch content {
        case .unset: return nil
        case .value(let value): return value
        case .object(let keys, let children):
            return .object(JSONObject(keys.compactMap { key in children[key]?.resolve().map { (key, $0) } }))
        case .array(let nodes): return .array(nodes.map { $0.resolve() ?? .null })
        }
    }

    /// The child for `key`, created at the end of the member order on first use.
    func member(_ key: String) -> EncodingNode {
        guard case .object(var keys, var children) = content else {
            let child = EncodingNode()
            content = .object(keys: [key], children: [key: child])
            return child
        }
        if let existing = children[key] { return existing }
        // Clearing `content` first leaves the extracted collections uniquely referenced, so the
        // appends below do not copy them: encoding stays linear in the number of members.
        content = .unset
        let child = EncodingNode()
        keys.append(key)
        children[key] = child
        content = .object(keys: keys, children: children)
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
        content = .object(keys: [], children: [:])
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
        // Types compared before casting: a failed dynamic cast of every encoded value costs more.
        if T.self == JSONValue.self, let json = value as? JSONValue {
            node.content = .value(json)
        } else if T.self == Decimal.self, let decimal = value as? Decimal {
            node.content = .value(.number(decimal.description))
        } else {
            try value.encode(to: self)
        }
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
    func encode(_ value: Int) { set(.number(String(value))) }
    func encode(_ value: Int8) { set(.number(String(value))) }
    func encode(_ value: Int16) { set(.number(String(value))) }
    func encode(_ value: Int32) { set(.number(String(value))) }
    func encode(_ value: Int64) { set(.number(String(value))) }
    func encode(_ value: UInt) { set(.number(String(value))) }
    func encode(_ value: UInt8) { set(.number(String(value))) }
    func encode(_ value: UInt16) { set(.number(String(value))) }
    func encode(_ value: UInt32) { set(.number(String(value))) }
    func encode(_ value: UInt64) { set(.number(String(value))) }
    func encode<T: Encodable>(_ value: T) throws { try encoder.encodeValue(value) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: ValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    func member(_ key: Key) -> ValueEncoder { encoder.child(encoder.node.member(key.stringValue), key: key) }

    mutating func encodeNil(forKey key: Key) { member(key).node.content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try member(key).encodeValue(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try member(key).encodeValue(value) }

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

    mutating func encodeNil() { next().node.content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { try next().encodeValue(value) }
    mutating func encode(_ value: Bool) throws { try next().encodeValue(value) }
    mutating func encode(_ value: String) throws { try next().encodeValue(value) }
    mutating func encode(_ value: Double) throws { try next().encodeValue(value) }
    mutating func encode(_ value: Float) throws { try next().encodeValue(value) }
    mutating func encode(_ value: Int) throws { try next().encodeValue(value) }
    mutating func encode(_ value: Int8) throws { try next().encodeValue(value) }
    mutating func encode(_ value: Int16) throws { try next().encodeValue(value) }
    mutating func encode(_ value: Int32) throws { try next().encodeValue(value) }
    mutating func encode(_ value: Int64) throws { try next().encodeValue(value) }
    mutating func encode(_ value: UInt) throws { try next().encodeValue(value) }
    mutating func encode(_ value: UInt8) throws { try next().encodeValue(value) }
    mutating func encode(_ value: UInt16) throws { try next().encodeValue(value) }
    mutating func encode(_ value: UInt32) throws { try next().encodeValue(value) }
    mutating func encode(_ value: UInt64) throws { try next().encodeValue(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        next().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { next().unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { next() }
}
