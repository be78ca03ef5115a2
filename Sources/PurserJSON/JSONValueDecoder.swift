import Foundation

/// Decodes `Decodable` types from a ``JSONValue`` without ever passing a number through `Double`.
///
/// - A JSON number decodes as `String` (its exact literal), as any integer type (when the literal
///   is an integer in range), as `Decimal`, or as `Double`/`Float` when a type asks for one.
/// - A property of type ``JSONValue`` receives the value exactly as parsed.
/// - Unknown members are ignored, as Calypso's robustness rule asks.
public struct JSONValueDecoder: Sendable {
    public init() {}

    /// Decodes `type` from an already parsed value.
    /// - Throws: `DecodingError` naming the coding path of the offending value.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try ValueDecoder(value: value, codingPath: []).decodeValue(type)
    }

    /// Parses `bytes` strictly and decodes `type` from them.
    /// - Throws: ``JSONParseError`` for malformed JSON, `DecodingError` for a shape mismatch.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try decode(type, from: try JSONValue(parsing: bytes))
    }
}

/// A coding key for array positions and for members found at run time.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    /// The path of the container holding the value, and the value's key in it: the whole path is built
    /// only when asked for (an error, a nested container), not for every member decoded.
    let parentPath: [any CodingKey]
    let key: (any CodingKey)?
    var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(value: JSONValue, parentPath: [any CodingKey], key: (any CodingKey)?) {
        self.value = value
        self.parentPath = parentPath
        self.key = key
    }

    init(value: JSONValue, codingPath: [any CodingKey]) {
        self.init(value: value, parentPath: codingPath, key: nil)
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        if T.self == String.self { return try SingleValueContainer(decoder: self).decode(String.self) as! T }
        if T.self == Decimal.self { return try SingleValueContainer(decoder: self).decodeDecimal() as! T }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch(JSONObject.self, value, codingPath) }
        return KeyedDecodingContainer(KeyedContainer<Key>(codingPath: codingPath, object: object))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([JSONValue].self, value, codingPath) }
        return UnkeyedContainer(codingPath: codingPath, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleValueContainer(decoder: self) }
}

private func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
    .typeMismatch(type, .init(codingPath: path, debugDescription: "expected \(type), found a JSON \(value.typeName)"))
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var value: JSONValue { decoder.value }

    func decodeNil() -> Bool { value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let bool) = value else { throw mismatch(type, value, codingPath) }
        return bool
    }

    /// A JSON string gives its text; a JSON number gives its literal, digits untouched.
    func decode(_ type: String.Type) throws -> String {
        switch value {
        case .string(let string), .number(let string): return string
        default: throw mismatch(type, value, codingPath)
        }
    }

    func literal(_ type: Any.Type) throws -> String {
        guard case .number(let literal) = value else { throw mismatch(type, value, codingPath) }
        return literal
    }

    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let literal = try literal(type)
        guard let integer = T(literal, radix: 10) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "number \(literal) is not an integer that fits \(type)")
            )
        }
        return integer
    }

    func floatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(_ type: T.Type) throws -> T {
        let literal = try literal(type)
        guard let number = T(literal), number.isFinite else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "number \(literal) does not fit \(type)")
            )
        }
        return number
    }

    func decodeDecimal() throws -> Decimal {
        let literal = try literal(Decimal.self)
        guard let decimal = Decimal(string: literal, locale: Locale(identifier: "en_US_POSIX")) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "number \(literal) does not fit Decimal")
            )
        }
        return decimal
    }

    func decode(_ type: Double.Type) throws -> Double { try floatingPoint(type) }
    func decode(_ type: Float.Type) throws -> Float { try floatingPoint(type) }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let codingPath: [any CodingKey]
    let object: JSONObject
    var allKeys: [Key] { object.keys.compactMap(Key.init(stringValue:)) }

    func contains(_ key: Key) -> Bool { object.contains(key.stringValue) }

    func member(_ key: Key) throws -> ValueDecoder {
        guard let value = object[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key,
                .init(codingPath: codingPath, debugDescription: "missing member \"\(key.stringValue)\"")
            )
        }
        return ValueDecoder(value: value, parentPath: codingPath, key: key)
    }

    /// A scalar member, read without a decoder of its own.
    func scalar(_ key: Key) throws -> SingleValueContainer { SingleValueContainer(decoder: try member(key)) }

    /// A member neither absent nor `null`, found with one lookup (the default implementation makes three).
    func present(_ key: Key) -> ValueDecoder? {
        guard let value = object[key.stringValue], value != .null else { return nil }
        return ValueDecoder(value: value, parentPath: codingPath, key: key)
    }

    func presentScalar(_ key: Key) -> SingleValueContainer? { present(key).map(SingleValueContainer.init(decoder:)) }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key).value == .null }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try member(key).decodeValue(type) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try scalar(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try scalar(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try scalar(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try scalar(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try scalar(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try scalar(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try scalar(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try scalar(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try scalar(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try scalar(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try scalar(key).decode(type) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try present(key)?.decodeValue(type)
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try presentScalar(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try presentScalar(key)?.decode(type) }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try member(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try member(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        ValueDecoder(value: object["super"] ?? .null, parentPath: codingPath, key: AnyCodingKey(stringValue: "super"))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: object[key.stringValue] ?? .null, parentPath: codingPath, key: key)
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let codingPath: [any CodingKey]
    let elements: [JSONValue]
    var currentIndex = 0
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(codingPath: [any CodingKey], elements: [JSONValue]) {
        self.codingPath = codingPath
        self.elements = elements
    }

    mutating func next(_ type: Any.Type) throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                .init(codingPath: codingPath + [AnyCodingKey(intValue: currentIndex)], debugDescription: "array ended")
            )
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: elements[currentIndex], parentPath: codingPath, key: AnyCodingKey(intValue: currentIndex))
    }

    /// The next element as a scalar, read without a decoder of its own.
    mutating func scalar(_ type: Any.Type) throws -> SingleValueContainer { SingleValueContainer(decoder: try next(type)) }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type).decodeValue(type) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try scalar(type).decode(type) }
    mutating func decode(_ type: String.Type) throws -> String { try scalar(type).decode(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try scalar(type).decode(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try scalar(type).decode(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try scalar(type).decode(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try scalar(type).decode(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try scalar(type).decode(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try scalar(type).decode(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try scalar(type).decode(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try scalar(type).decode(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try scalar(type).decode(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try scalar(type).decode(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try scalar(type).decode(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try scalar(type).decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try next(JSONObject.self).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next([JSONValue].self).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { try next(JSONValue.self) }
}
