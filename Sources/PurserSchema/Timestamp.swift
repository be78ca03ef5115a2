import Foundation

/// A point in time with millisecond precision, written as RFC 3339 in UTC with exactly three
/// fractional digits: `2026-11-25T10:00:00.123Z`.
///
/// Decoding accepts any RFC 3339 date-time (any fraction length, truncated to milliseconds;
/// `Z` or a numeric offset), so events from other producers are read; Purser always writes the
/// canonical form. Calypso's zone-less `createdDate` is not a `Timestamp`: it is kept as text.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var millisecondsSince1970: Int64

    public init(millisecondsSince1970: Int64) { self.millisecondsSince1970 = millisecondsSince1970 }

    /// `date` truncated to the millisecond.
    public init(_ date: Date) {
        millisecondsSince1970 = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    public static var now: Timestamp { Timestamp(Date()) }

    public var date: Date { Date(timeIntervalSince1970: Double(millisecondsSince1970) / 1000) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.millisecondsSince1970 < rhs.millisecondsSince1970 }

    /// The canonical RFC 3339 text.
    public var description: String {
        let (days, millisecondOfDay) = millisecondsSince1970.floorDivided(by: 86_400_000)
        let (year, month, day) = Self.civilDate(daysSince1970: days)
        let seconds = millisecondOfDay / 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2))"
            + ":\(pad(seconds % 60, 2)).\(pad(millisecondOfDay % 1000, 3))Z"
    }

    private func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Parses an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    /// - Throws: ``TimestampError`` naming what is wrong.
    public init(rfc3339 text: String) throws(TimestampError) {
        var scanner = DigitScanner(bytes: Array(text.utf8))
        func reject(_ reason: String) -> TimestampError { TimestampError(text: text, reason: reason) }
        guard let year = scanner.number(digits: 4), scanner.skip("-"), let month = scanner.number(digits: 2),
            scanner.skip("-"), let day = scanner.number(digits: 2)
        else { throw reject("expected a date YYYY-MM-DD") }
        guard scanner.skip("T") || scanner.skip("t"), let hour = scanner.number(digits: 2), scanner.skip(":"),
            let minute = scanner.number(digits: 2), scanner.skip(":"), let second = scanner.number(digits: 2)
        else { throw reject("expected a time THH:MM:SS") }
        var millisecond: Int64 = 0
        if scanner.skip(".") {
            let fraction = scanner.digits()
            guard !fraction.isEmpty else { throw reject("expected digits after '.'") }
            millisecond = Int64(String(decoding: (fraction + [48, 48, 48]).prefix(3), as: UTF8.self))!
        }
        var offsetMinutes: Int64 = 0
        if !(scanner.skip("Z") || scanner.skip("z")) {
            let sign: Int64
            if scanner.skip("+") {
                sign = 1
            } else if scanner.skip("-") {
                sign = -1
            } else {
                throw reject("expected a zone: Z or ±HH:MM")
            }
            guard let offsetHour = scanner.number(digits: 2), scanner.skip(":"),
                let offsetMinute = scanner.number(digits: 2), offsetHour < 24, offsetMinute < 60
            else { throw reject("expected a zone offset ±HH:MM") }
            offsetMinutes = sign * (offsetHour * 60 + offsetMinute)
        }
        guard scanner.isAtEnd else { throw reject("unexpected text after the zone") }
        guard (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day) else {
            throw reject("no such date")
        }
        // Second 60 is a leap second, which Unix time folds into the next second.
        guard hour < 24, minute < 60, second <= 60 else { throw reject("no such time") }
        let days = Self.daysSince1970(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        millisecondsSince1970 = seconds * 1000 + millisecond
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(rfc3339: text)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description)
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's `days_from_civil`).
    private static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of ``daysSince1970(year:month:day:)`` (`civil_from_days`).
    private static func civilDate(daysSince1970 days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// Why a text is not an RFC 3339 date-time.
public struct TimestampError: Error, Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var reason: String

    public var description: String { "\"\(text)\" is not an RFC 3339 date-time: \(reason)" }
}

private struct DigitScanner {
    let bytes: [UInt8]
    var position = 0

    var isAtEnd: Bool { position == bytes.count }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { return false }
        position += 1
        return true
    }

    mutating func digits() -> [UInt8] {
        let start = position
        while position < bytes.count, (48...57).contains(bytes[position]) { position += 1 }
        return Array(bytes[start..<position])
    }

    mutating func number(digits count: Int) -> Int64? {
        guard position + count <= bytes.count else { return nil }
        let slice = bytes[position..<position + count]
        guard slice.allSatisfy({ (48...57).contains($0) }) else { return nil }
        position += count
        return Int64(String(decoding: slice, as: UTF8.self))
    }
}

extension Int64 {
    /// Quotient and non-negative remainder, so times before 1970 format correctly.
    fileprivate func floorDivided(by divisor: Int64) -> (Int64, Int64) {
        let remainder = self % divisor
        return remainder < 0 ? (self / divisor - 1, remainder + divisor) : (self / divisor, remainder)
    }
}
