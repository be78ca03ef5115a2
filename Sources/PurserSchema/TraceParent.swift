/// A W3C Trace Context `traceparent` value: `00-<trace-id>-<parent-id>-<flags>`.
///
/// Ingest starts a trace per webhook; each hop keeps the trace id and names its own span as the
/// parent (``childSpan()``). Decoding keeps any text, valid or not, so an event is never dropped
/// for its trace header; ``isValid`` tells whether it follows the format.
public struct TraceParent: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// A new sampled trace with random ids.
    public static func random() -> TraceParent {
        var generator = SystemRandomNumberGenerator()
        return TraceParent(
            traceID: randomHex(bytes: 16, using: &generator),
            parentID: randomHex(bytes: 8, using: &generator)
        )
    }

    private init(traceID: String, parentID: String) {
        rawValue = "00-\(traceID)-\(parentID)-01"
    }

    /// The same trace with a new random span as parent; a new trace when this value is invalid.
    public func childSpan() -> TraceParent {
        guard isValid, let traceID else { return .random() }
        var generator = SystemRandomNumberGenerator()
        return TraceParent(traceID: traceID, parentID: Self.randomHex(bytes: 8, using: &generator))
    }

    /// The 32 hex digits of the trace id, when the value is valid.
    public var traceID: String? {
        isValid ? String(rawValue.split(separator: "-")[1]) : nil
    }

    /// Whether the value follows the version-00 format: lowercase hex fields of 2, 32, 16 and 2
    /// digits, with trace and parent ids not all zero.
    public var isValid: Bool {
        let fields = rawValue.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == "00" else { return false }
        let lengths = [2, 32, 16, 2]
        for (field, length) in zip(fields, lengths) {
            guard field.utf8.count == length, field.utf8.allSatisfy(Self.isLowercaseHex) else { return false }
        }
        return fields[1].contains { $0 != "0" } && fields[2].contains { $0 != "0" }
    }

    public var description: String { rawValue }

    private static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (97...102).contains(byte)
    }

    /// `count` random bytes as lowercase hex, not all zero (W3C: an all-zero id is invalid).
    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func randomHex(bytes count: Int, using generator: inout some RandomNumberGenerator) -> String {
        let digits = hexDigits
        var hex: [UInt8] = []
        hex.reserveCapacity(count * 2)
        repeat {
            hex.removeAll(keepingCapacity: true)
            // Eight bytes per draw: a system generator's draw is a system call.
            while hex.count < count * 2 {
                var word = generator.next()
                for _ in 0..<min(8, count - hex.count / 2) {
                    hex.append(digits[Int(word >> 4 & 0xF)])
                    hex.append(digits[Int(word & 0xF)])
                    word >>= 8
                }
            }
        } while hex.allSatisfy { $0 == UInt8(ascii: "0") }
        return String(decoding: hex, as: UTF8.self)
    }
}
