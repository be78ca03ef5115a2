import ArgumentParser
import PurserSchema

/// A point in time given on the command line: an RFC 3339 date-time (`2026-11-25T10:00:00Z`) or a
/// duration before now (`90s`, `10m`, `2h`, `7d`).
struct TimeArgument: ExpressibleByArgument, Sendable {
    let text: String
    /// For an absolute time, the time; for a duration, how far before now.
    private let value: Value

    private enum Value {
        case absolute(Timestamp)
        case ago(milliseconds: Int64)
    }

    init?(argument: String) {
        text = argument
        if let duration = Self.milliseconds(argument) {
            value = .ago(milliseconds: duration)
        } else if let timestamp = try? Timestamp(rfc3339: argument) {
            value = .absolute(timestamp)
        } else {
            return nil
        }
    }

    static var defaultCompletionKind: CompletionKind { .default }

    /// The time this argument names, relative durations counted back from `now`.
    func timestamp(now: Timestamp = .now) -> Timestamp {
        switch value {
        case .absolute(let timestamp): timestamp
        case .ago(let milliseconds): Timestamp(millisecondsSince1970: now.millisecondsSince1970 - milliseconds)
        }
    }

    /// `10m` and the like in milliseconds; `nil` for anything else.
    static func milliseconds(_ text: String) -> Int64? {
        guard let unit = text.last, let count = Int64(text.dropLast()), count >= 0 else { return nil }
        let scale: Int64? =
            switch unit {
            case "s": 1000
            case "m": 60_000
            case "h": 3_600_000
            case "d": 86_400_000
            default: nil
            }
        guard let scale else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: scale)
        return overflow ? nil : product
    }
}

/// A duration given on the command line: `90s`, `10m`, `2h`, `7d`.
struct DurationArgument: ExpressibleByArgument, Sendable {
    let text: String
    let milliseconds: Int64

    init?(argument: String) {
        guard let milliseconds = TimeArgument.milliseconds(argument) else { return nil }
        text = argument
        self.milliseconds = milliseconds
    }
}
