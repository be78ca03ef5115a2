import PurserJSON

/// An amount of money as the exact decimal text Calypso sent, e.g. `"0.123456789012345678"`.
///
/// The text is kept as received (`"1.50"` stays `"1.50"`) and written to JSON as a string, so no
/// digit is ever lost to floating point. Comparison and equality are numeric (`"1.50" == "1.5"`)
/// and work on the digits, never through `Double`.
///
/// Accepted: non-negative plain decimals, `0` or digits without a leading zero, optionally `.`
/// and 1 to ``maximumFractionDigits`` digits. Rejected with a ``DecimalAmountError``: empty text,
/// signs, exponents (`1e-3`), `NaN`, `1.`, `.5`, `01`, spaces and anything else.
///
/// Decoding accepts a JSON string or, through ``PurserJSON/JSONValueDecoder``, a JSON number
/// literal (Calypso sends `amount` as a number). A number in exponent form, as Java's `BigDecimal`
/// writes small amounts (`1E-8`), is expanded to its plain digits exactly (`0.00000001`); a string
/// in exponent form is still rejected.
public struct DecimalAmount: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The most fractional digits an amount may have (Calypso's smallest units, e.g. wei).
    public static let maximumFractionDigits = 18

    /// The amount exactly as received.
    public let text: String
    private let integerDigits: Substring
    /// Fractional digits without trailing zeros.
    private let significantFraction: Substring

    /// - Throws: ``DecimalAmountError`` when `text` is not a plain non-negative decimal.
    public init(_ text: String) throws(DecimalAmountError) {
        func reject(_ reason: String) -> DecimalAmountError { DecimalAmountError(text: text, reason: reason) }
        guard !text.isEmpty else { throw reject("it is empty") }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integer = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !integer.isEmpty, integer.utf8.allSatisfy(Self.isDigit) else {
            throw reject("expected digits before the decimal point (no sign, exponent or spaces)")
        }
        guard integer == "0" || integer.first != "0" else { throw reject("leading zeros are not allowed") }
        if parts.count == 2 {
            guard !fraction.isEmpty else { throw reject("expected digits after the decimal point") }
            guard fraction.utf8.allSatisfy(Self.isDigit) else {
                throw reject("expected only digits after the decimal point (no exponent)")
            }
            guard fraction.count <= Self.maximumFractionDigits else {
                throw reject("more than \(Self.maximumFractionDigits) fractional digits")
            }
        }
        self.text = text
        self.integerDigits = integer
        var significant = fraction
        while significant.last == "0" { significant.removeLast() }
        self.significantFraction = significant
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// The amount a JSON number literal in exponent form stands for, e.g. `1.5E-7` → `0.00000015`: the same
    /// digits with the decimal point moved, never through a binary float. Zeros beyond
    /// ``maximumFractionDigits`` that the shift leaves at the end are dropped (`1.0E-18` → 18 digits).
    init(jsonNumber literal: String) throws(DecimalAmountError) {
        func reject(_ reason: String) -> DecimalAmountError { DecimalAmountError(text: literal, reason: reason) }
        let parts = literal.split(whereSeparator: { $0 == "e" || $0 == "E" })
        guard parts.count == 2, let exponent = Int(parts[1]), abs(exponent) <= Self.maximumExponent else {
            throw reject("expected a number with an exponent between -\(Self.maximumExponent) and \(Self.maximumExponent)")
        }
        let mantissa = parts[0].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let digits = Array(mantissa.joined())
        let point = mantissa[0].count + exponent
        var text: String
        if point <= 0 {
            text = "0." + String(repeating: "0", count: -point) + String(digits)
        } else if point >= digits.count {
            text = String(digits) + String(repeating: "0", count: point - digits.count)
        } else {
            text = String(digits[..<point]) + "." + String(digits[point...])
        }
        while text.count > 1, text.first == "0", text.dropFirst().first != "." { text.removeFirst() }
        if let dot = text.firstIndex(of: ".") {
            while text.distance(from: dot, to: text.endIndex) - 1 > Self.maximumFractionDigits, text.last == "0" { text.removeLast() }
            if text.last == "." { text.removeLast() }
        }
        do {
            try self.init(text)
        } catch {
            throw reject(error.reason)
        }
    }

    /// Bounds the digits an exponent can add (Calypso's amounts need a few dozen at most).
    static let maximumExponent = 100

    public var description: String { text }

    /// Whether the amount is zero (`0`, `0.000`).
    public var isZero: Bool { integerDigits == "0" && significantFraction.isEmpty }

    /// The amount as a JSON number with exactly its digits, for writing Calypso's wire format
    /// (Purser's own messages carry the string form).
    public var jsonNumber: JSONValue { .number(text) }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.integerDigits == rhs.integerDigits && lhs.significantFraction == rhs.significantFraction
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(integerDigits)
        hasher.combine(significantFraction)
    }

    /// Integer parts have no leading zeros, so a longer one is larger; fractions without trailing
    /// zeros compare digit by digit.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.integerDigits.count != rhs.integerDigits.count {
            return lhs.integerDigits.count < rhs.integerDigits.count
        }
        if lhs.integerDigits != rhs.integerDigits { return lhs.integerDigits < rhs.integerDigits }
        return lhs.significantFraction.lexicographicallyPrecedes(rhs.significantFraction)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            if text.utf8.contains(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
                case .number = try? container.decode(JSONValue.self)
            {
                try self.init(jsonNumber: text)
            } else {
                try self.init(text)
            }
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description)
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// Why a text is not a ``DecimalAmount``.
public struct DecimalAmountError: Error, Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var reason: String

    public var description: String { "\"\(text)\" is not a decimal amount: \(reason)" }
}
