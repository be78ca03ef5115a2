/// SplitMix64: the same sequence for the same seed on every platform, so `--seed` makes ids,
/// addresses and fault decisions repeatable.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// True with probability `rate` (0 never draws, so turning a fault on does not shift ids).
    mutating func chance(_ rate: Double) -> Bool {
        guard rate > 0 else { return false }
        return Double(next() >> 11) * 0x1p-53 < rate
    }

    /// A version-4 UUID string in lowercase.
    mutating func uuid() -> String {
        var bytes = (0..<16).map { _ in UInt8(truncatingIfNeeded: next()) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = bytes.map { byte in String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16) }.joined()
        let digits = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(digits[$0]) }.joined(separator: "-")
    }

    /// `count` characters drawn from `alphabet`.
    mutating func string(_ count: Int, from alphabet: String) -> String {
        let characters = Array(alphabet)
        return String((0..<count).map { _ in characters[Int(next() % UInt64(characters.count))] })
    }

    mutating func hex(_ count: Int) -> String { string(count, from: "0123456789abcdef") }
}

/// The chain family whose currencies share one deposit address per customer: the docs' example
/// sends `ETH`, `USDT_BSC` and `POL` to one EVM address; Tron tokens share a Tron address.
enum AddressFamily: String, Sendable {
    case evm, tron, bitcoin, dogecoin

    /// The currencies the sandbox accepts: Calypso's published list plus `POL`.
    static let currencies: [String: AddressFamily] = [
        "ETH": .evm, "USDT": .evm, "USDC": .evm, "DAI": .evm, "FRAX": .evm, "BNB": .evm, "USDT_BSC": .evm,
        "MATIC": .evm, "POL": .evm, "USDT_MATIC": .evm,
        "TRX": .tron, "USDT_TRX": .tron, "USDC_TRX": .tron,
        "BTC": .bitcoin, "XDG": .dogecoin,
    ]

    init?(currency: String) {
        guard let family = Self.currencies[currency] else { return nil }
        self = family
    }

    func makeAddress(using random: inout SeededRandom) -> String {
        let base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
        return switch self {
        case .evm: "0x" + random.hex(40)
        case .tron: "T" + random.string(33, from: base58)
        case .bitcoin: "bc1q" + random.string(38, from: "qpzry9x8gf2tvdw0s3jn54khce6mua7l")
        case .dogecoin: "D" + random.string(33, from: base58)
        }
    }

    func makeTransactionHash(using random: inout SeededRandom) -> String {
        self == .evm ? "0x" + random.hex(64) : random.hex(64)
    }
}
