import Foundation
import PurserJSON
import Testing

@testable import PurserSchema

@Suite struct TimestampTests {
    /// Expected texts computed with Python's `datetime`.
    @Test(arguments: [
        (Int64(1_764_064_800_123), "2025-11-25T10:00:00.123Z"),
        (1_761_833_319_987, "2025-10-30T14:08:39.987Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (951_868_799_999, "2000-02-29T23:59:59.999Z"),
        (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
    ])
    func formatsAndParsesCanonicalText(milliseconds: Int64, text: String) throws {
        let timestamp = Timestamp(millisecondsSince1970: milliseconds)
        #expect(timestamp.description == text)
        #expect(try Timestamp(rfc3339: text) == timestamp)
    }

    @Test func parsesOffsetsAndLongFractions() throws {
        #expect(try Timestamp(rfc3339: "2026-11-25T12:30:00.1239+02:30").millisecondsSince1970 == 1_795_600_800_123)
        #expect(try Timestamp(rfc3339: "2025-11-25T10:00:00Z").millisecondsSince1970 == 1_764_064_800_000)
        #expect(try Timestamp(rfc3339: "2025-11-25t10:00:00.1z").millisecondsSince1970 == 1_764_064_800_100)
    }

    @Test(arguments: [
        ("2025-10-30T14:08:39.96068", "zone"),
        ("2025-02-29T00:00:00Z", "no such date"),
        ("2025-13-01T00:00:00Z", "no such date"),
        ("2025-01-01T24:00:00Z", "no such time"),
        ("2025-01-01 00:00:00Z", "expected a time"),
        ("2025-1-01T00:00:00Z", "expected a date"),
        ("2025-01-01T00:00:00.Z", "digits after '.'"),
        ("2025-01-01T00:00:00Z ", "after the zone"),
        ("2025-01-01T00:00:00+0200", "offset"),
    ])
    func rejectsWhatIsNotRFC3339(text: String, reason: String) {
        #expect {
            try Timestamp(rfc3339: text)
        } throws: { error in
            (error as? TimestampError)?.reason.contains(reason) == true
        }
    }

    @Test func encodesAsAStringAndTruncatesDates() throws {
        let timestamp = Timestamp(Date(timeIntervalSince1970: 1_764_064_800.1239))
        #expect(try JSONValueEncoder().encode(timestamp) == .string("2025-11-25T10:00:00.123Z"))
        #expect(try JSONValueDecoder().decode(Timestamp.self, from: .string("2025-11-25T10:00:00.123Z")) == timestamp)
    }
}
