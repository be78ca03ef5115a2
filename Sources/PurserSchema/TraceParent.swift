#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        TraceParent(traceID: randomHex(bytes: 16), parentID: randomHex(bytes: 8))
    }

    private init(traceID: String, parentID: String, flags: String = "01") {
        rawValue = "00-\(traceID)-\(parentID)-\(flags)"
    }

    /// The same trace, with its flags (the caller's sampling decision), and a new random span as parent; a
    /// new trace when this value is invalid.
    public func childSpan() -> TraceParent {
        guard let traceID else { return .random() }
        return TraceParent(traceID: traceID, parentID: Self.randomHex(bytes: 8), flags: String(rawValue.suffix(2)))
    }

    /// The 32 hex digits of the trace id, when the value is valid.
    public var traceID: String? {
        isValid ? String(decoding: rawValue.utf8.dropFirst(3).prefix(32), as: UTF8.self) : nil
    }

    /// Whether the value follows the version-00 format: lowercase hex fields of 2, 32, 16 and 2
    /// digits, with trace and parent ids not all zero.
    public var isValid: Bool {
        // Every hop checks the trace it continues: bytes at fixed places, no splitting.
        var text = rawValue
        return text.withUTF8 { bytes in
            let dash = UInt8(ascii: "-")
            let zero = UInt8(ascii: "0")
            guard bytes.count == 55, bytes[0] == zero, bytes[1] == zero,
                bytes[2] == dash, bytes[35] == dash, bytes[52] == dash
            else { return false }
            let traceID = bytes[3..<35]
            let parentID = bytes[36..<52]
            return traceID.allSatisfy(Self.isLowercaseHex) && parentID.allSatisfy(Self.isLowercaseHex)
                && bytes[53..<55].allSatisfy(Self.isLowercaseHex)
                && traceID.contains { $0 != zero } && parentID.contains { $0 != zero }
        }
    }

    public var description: String { rawValue }

    private static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (97...102).contains(byte)
    }

    /// `count` random bytes as lowercase hex, not all zero (W3C: an all-zero id is invalid).
    private static func randomHex(bytes count: Int) -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        repeat {
            // One system call for all the bytes (the standard generator makes one per eight).
            bytes.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, count) }
        } while bytes.allSatisfy { $0 == 0 }
        var hex: [UInt8] = []
        hex.reserveCapacity(count * 2)
        for byte in bytes { LowercaseHex.append(byte, to: &hex) }
        return String(decoding: hex, as: UTF8.self)
    }
}
