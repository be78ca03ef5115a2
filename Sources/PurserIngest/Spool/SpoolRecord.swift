/// A verified webhook as it is kept in the spool: everything needed to publish it later exactly as
/// it would have been published at once (the event id is derived from the body, so it is the same).
public struct SpoolRecord: Sendable, Hashable {
    /// The webhook body exactly as received and verified.
    public var body: [UInt8]
    /// The `Key` header that verified the body.
    public var keyId: String
    /// When ingest received the webhook, RFC 3339 with milliseconds in UTC.
    public var receivedAt: String
    /// The W3C trace context started when the webhook arrived.
    public var traceparent: String

    public init(body: [UInt8], keyId: String, receivedAt: String, traceparent: String) {
        self.body = body
        self.keyId = keyId
        self.receivedAt = receivedAt
        self.traceparent = traceparent
    }
}

extension SpoolRecord {
    private static let formatVersion: UInt8 = 1

    /// Binary layout, big-endian: version (1 byte); `receivedAt`, `keyId`, `traceparent`, each a
    /// 2-byte length and UTF-8; `body`, a 4-byte length and its bytes.
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = [Self.formatVersion]
        bytes.reserveCapacity(body.count + 128)
        for text in [receivedAt, keyId, traceparent] {
            let utf8 = Array(text.utf8.prefix(Int(UInt16.max)))
            bytes.appendBigEndian(UInt16(utf8.count))
            bytes.append(contentsOf: utf8)
        }
        bytes.appendBigEndian(UInt32(body.count))
        bytes.append(contentsOf: body)
        return bytes
    }

    /// - Returns: `nil` when the bytes are not a record of a known version; the frame checksum has
    ///   already passed, so this only happens for a spool written by a newer, unknown format.
    init?(decoding bytes: ArraySlice<UInt8>) {
        var reader = ByteReader(bytes)
        guard reader.readByte() == Self.formatVersion,
            let receivedAt = reader.readText(),
            let keyId = reader.readText(),
            let traceparent = reader.readText(),
            let bodyLength = reader.readUInt32(),
            let body = reader.readBytes(Int(bodyLength)),
            reader.isAtEnd
        else { return nil }
        self.init(body: Array(body), keyId: keyId, receivedAt: receivedAt, traceparent: traceparent)
    }
}

extension [UInt8] {
    mutating func appendBigEndian(_ value: some FixedWidthInteger) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

/// Reads big-endian integers and length-prefixed fields, returning `nil` instead of reading past the end.
struct ByteReader {
    private var remaining: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        remaining = bytes
    }

    var isAtEnd: Bool { remaining.isEmpty }

    mutating func readByte() -> UInt8? {
        remaining.popFirst()
    }

    mutating func readUInt16() -> UInt16? {
        readInteger()
    }

    mutating func readUInt32() -> UInt32? {
        readInteger()
    }

    mutating func readUInt64() -> UInt64? {
        readInteger()
    }

    mutating func readBytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, remaining.count >= count else { return nil }
        let bytes = remaining.prefix(count)
        remaining = remaining.dropFirst(count)
        return bytes
    }

    mutating func readText() -> String? {
        guard let length = readUInt16(), let bytes = readBytes(Int(length)) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    private mutating func readInteger<Integer: FixedWidthInteger>() -> Integer? {
        guard let bytes = readBytes(MemoryLayout<Integer>.size) else { return nil }
        return bytes.reduce(0) { $0 << 8 | Integer($1) }
    }
}
