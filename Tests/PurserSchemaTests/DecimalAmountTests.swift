import PurserJSON
import Testing

@testable import PurserSchema

private struct Holder: Codable, Equatable {
    var amount: DecimalAmount
}

@Suite struct DecimalAmountTests {
    static let exactAmounts = ["0.123456789012345678", "1000000000.000000000000000001", "0", "1.50", "42"]

    @Test(arguments: exactAmounts)
    func aJSONStringRoundTripsExactly(text: String) throws {
        let bytes = Array(#"{"amount":"\#(text)"}"#.utf8)
        let holder = try JSONValueDecoder().decode(Holder.self, from: bytes)
        #expect(holder.amount.text == text)
        #expect(try JSONValueEncoder().encodeToBytes(holder) == bytes)
    }

    @Test(arguments: exactAmounts)
    func aJSONNumberLiteralKeepsItsDigits(text: String) throws {
        let holder = try JSONValueDecoder().decode(Holder.self, from: Array(#"{"amount":\#(text)}"#.utf8))
        #expect(holder.amount.text == text)
        #expect(try JSONValueEncoder().encode(holder)["amount"] == .string(text))
    }

    @Test(arguments: [
        ("1E-8", "0.00000001"), ("1.5e-7", "0.00000015"), ("1.50E+1", "15.0"), ("2E3", "2000"), ("0.5E1", "5"),
        ("1.0E-18", "0.000000000000000001"), ("123.456E-2", "1.23456"), ("1000000000000000001E-18", "1.000000000000000001"),
    ])
    func aJSONNumberInExponentFormIsExpandedExactly(literal: String, text: String) throws {
        let holder = try JSONValueDecoder().decode(Holder.self, from: Array(#"{"amount":\#(literal)}"#.utf8))
        #expect(holder.amount.text == text)
    }

    @Test(arguments: [#""1e-3""#, "1E-19", "1E+1000", "1E999999999999999999999"])
    func anExponentInAStringOrBeyondTheLimitsIsRejected(json: String) {
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Holder.self, from: Array(#"{"amount":\#(json)}"#.utf8)) }
    }

    @Test(arguments: [
        ("1e-3", "exponent"),
        ("1E3", "no sign, exponent or spaces"),
        ("NaN", "no sign, exponent or spaces"),
        ("Infinity", "no sign, exponent or spaces"),
        ("1.", "expected digits after the decimal point"),
        (".5", "expected digits before the decimal point"),
        ("+1", "no sign"),
        ("-1", "no sign"),
        ("", "it is empty"),
        (" 1", "spaces"),
        ("01", "leading zeros"),
        ("1.2.3", "only digits after the decimal point"),
        ("1,5", "no sign, exponent or spaces"),
        ("0.1234567890123456789", "more than 18 fractional digits"),
    ])
    func garbageIsRejectedWithAClearReason(text: String, reason: String) {
        #expect {
            try DecimalAmount(text)
        } throws: { error in
            guard let error = error as? DecimalAmountError else { return false }
            return error.reason.contains(reason) && error.description.hasPrefix("\"\(text)\" is not a decimal amount:")
        }
    }

    @Test func decodingGarbageNamesTheMember() throws {
        let error = try #require(throws: DecodingError.self) {
            try JSONValueDecoder().decode(Holder.self, from: Array(#"{"amount":"1e-3"}"#.utf8))
        }
        guard case .dataCorrupted(let context) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(context.codingPath.map(\.stringValue) == ["amount"])
        #expect(context.debugDescription.contains("\"1e-3\" is not a decimal amount"))
    }

    @Test func comparisonIsNumericWithoutDouble() throws {
        let ordered = try [
            "0", "0.000000000000000001", "0.1", "0.123456789012345678", "0.2", "9.99", "10", "10.000000000000000001",
            "1000000000.000000000000000001",
        ]
        .map { try DecimalAmount($0) }
        for (smaller, larger) in zip(ordered, ordered.dropFirst()) {
            #expect(smaller < larger, "\(smaller) < \(larger)")
            #expect(!(larger < smaller), "\(larger) < \(smaller)")
        }
        // 0.1 and 0.1000000000000000001 differ by less than Double can tell apart near 1e9.
        #expect(try DecimalAmount("1000000000.000000000000000001") > DecimalAmount("1000000000"))
    }

    @Test func equalityIgnoresTrailingZerosButTheTextIsKept() throws {
        let written = try DecimalAmount("1.50")
        let short = try DecimalAmount("1.5")
        #expect(written == short)
        #expect(Set([written, short]).count == 1)
        #expect(written.text == "1.50")
        #expect(try DecimalAmount("2.0") == DecimalAmount("2"))
        #expect(try DecimalAmount("2.01") != DecimalAmount("2.1"))
    }

    @Test func zeroIsRecognisedWhateverItsFraction() throws {
        #expect(try DecimalAmount("0").isZero)
        #expect(try DecimalAmount("0.000").isZero)
        #expect(try !DecimalAmount("0.000000000000000001").isZero)
        #expect(try !DecimalAmount("10").isZero)
    }

    @Test func theJSONNumberFormKeepsTheDigits() throws {
        let amount = try DecimalAmount("1000000000.000000000000000001")
        #expect(amount.jsonNumber.jsonText == "1000000000.000000000000000001")
        #expect(try JSONValueDecoder().decode(DecimalAmount.self, from: amount.jsonNumber) == amount)
    }
}
