import Foundation
import Testing

@testable import PurserJSON

private struct Webhook: Codable, Equatable {
    var id: String
    var sequence: Int64
    var ratio: Decimal
    var label: String?
    var data: JSONValue
}

/// One of each primitive, through each overload of the keyed and the unkeyed container.
private struct Primitives: Encodable {
    static let string = "a\"b\n\u{01}é"
    static let decimal = Decimal(string: "1000000000.000000000000000001")!
    static let json = try! JSONValue(parsing: #"{"b":1.10,"a":[]}"#)

    func encode(to encoder: any Encoder) throws {
        var members = encoder.container(keyedBy: AnyCodingKey.self)
        var index = 0
        func next() -> AnyCodingKey {
            defer { index += 1 }
            return AnyCodingKey(stringValue: "m\(index)")
        }
        try members.encodeNil(forKey: next())
        try members.encode(true, forKey: next())
        try members.encode(Self.string, forKey: next())
        try members.encode(Int.min, forKey: next())
        try members.encode(Int8.min, forKey: next())
        try members.encode(Int16.max, forKey: next())
        try members.encode(Int32.min, forKey: next())
        try members.encode(Int64.max, forKey: next())
        try members.encode(UInt.max, forKey: next())
        try members.encode(UInt8.max, forKey: next())
        try members.encode(UInt16.max, forKey: next())
        try members.encode(UInt32.max, forKey: next())
        try members.encode(UInt64.min, forKey: next())
        try members.encode(0.5, forKey: next())
        try members.encode(Float(-2), forKey: next())
        try members.encode(Self.decimal, forKey: next())
        try members.encode(Self.json, forKey: next())
        var list = members.nestedUnkeyedContainer(forKey: AnyCodingKey(stringValue: "list"))
        try list.encodeNil()
        try list.encode(true)
        try list.encode(Self.string)
        try list.encode(Int.min)
        try list.encode(Int8.min)
        try list.encode(Int16.max)
        try list.encode(Int32.min)
        try list.encode(Int64.max)
        try list.encode(UInt.max)
        try list.encode(UInt8.max)
        try list.encode(UInt16.max)
        try list.encode(UInt32.max)
        try list.encode(UInt64.min)
        try list.encode(0.5)
        try list.encode(Float(-2))
        try list.encode(Self.decimal)
        try list.encode(Self.json)
    }
}

private struct Measurement: Codable {
    var value: Double
}

@Suite struct JSONCodableBridgeTests {
    let body =
        #"{"unknown":[1,2],"id":1331293,"sequence":42,"ratio":0.5,"data":{"amount":1000000000.000000000000000001,"z":null,"a":{"deep":1.10}}}"#

    @Test func numbersDecodeExactlyAsStringsIntegersAndDecimals() throws {
        let webhook = try JSONValueDecoder().decode(Webhook.self, from: Array(body.utf8))
        #expect(webhook.id == "1331293")
        #expect(webhook.sequence == 42)
        #expect(webhook.ratio == Decimal(string: "0.5"))
        #expect(webhook.label == nil)
        #expect(webhook.data["amount"] == .number("1000000000.000000000000000001"))
    }

    @Test func nestedJSONValueIsWrittenVerbatim() throws {
        let webhook = try JSONValueDecoder().decode(Webhook.self, from: Array(body.utf8))
        let encoded = try JSONValueEncoder().encode(webhook)
        #expect(encoded.objectValue?.keys == ["id", "sequence", "ratio", "data"])
        #expect(encoded["data"]?.jsonText == #"{"amount":1000000000.000000000000000001,"z":null,"a":{"deep":1.10}}"#)
        #expect(encoded["id"] == .string("1331293"))
        #expect(encoded["sequence"] == .number("42"))
        #expect(encoded["ratio"] == .number("0.5"))
        let again = try JSONValueDecoder().decode(Webhook.self, from: try JSONValueEncoder().encodeToBytes(webhook))
        #expect(again == webhook)
    }

    @Test func aFractionIsNotAnInteger() throws {
        let error = try #require(throws: DecodingError.self) {
            try JSONValueDecoder().decode(
                Webhook.self,
                from: Array(body.replacingOccurrences(of: "42", with: "4.2").utf8)
            )
        }
        guard case .dataCorrupted(let context) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(context.codingPath.map(\.stringValue) == ["sequence"])
        #expect(context.debugDescription.contains("4.2"))
    }

    @Test func missingMembersAndWrongTypesNameTheMember() throws {
        let missing = try #require(throws: DecodingError.self) {
            try JSONValueDecoder().decode(Webhook.self, from: JSONValue(parsing: #"{"id":"1","sequence":1,"ratio":1}"#))
        }
        guard case .keyNotFound(let key, _) = missing else {
            Issue.record("unexpected \(missing)")
            return
        }
        #expect(key.stringValue == "data")

        let wrong = try #require(throws: DecodingError.self) {
            try JSONValueDecoder().decode(
                Webhook.self,
                from: JSONValue(parsing: #"{"id":true,"sequence":1,"ratio":1,"data":{}}"#)
            )
        }
        guard case .typeMismatch(_, let context) = wrong else {
            Issue.record("unexpected \(wrong)")
            return
        }
        #expect(context.codingPath.map(\.stringValue) == ["id"])
    }

    @Test func malformedBytesReportTheParseError() {
        #expect(throws: JSONParseError.self) {
            try JSONValueDecoder().decode(Webhook.self, from: Array(#"{"id":01}"#.utf8))
        }
    }

    @Test func nonFiniteDoublesCannotBeEncoded() {
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode(Measurement(value: .nan)) }
    }

    /// Every primitive as a member, as an element and alone, against the same text: members and
    /// elements are written without a child encoder, values alone through the single-value container.
    @Test func primitivesEncodeAlikeInEveryContainer() throws {
        let expected = [
            "null", "true", #""a\"b\n\u0001é""#, "-9223372036854775808", "-128", "32767", "-2147483648",
            "9223372036854775807", "18446744073709551615", "255", "65535", "4294967295", "0", "0.5", "-2.0",
            "1000000000.000000000000000001", #"{"b":1.10,"a":[]}"#,
        ]
        let members = expected.enumerated().map { #""m\#($0.offset)":\#($0.element)"# }.joined(separator: ",")
        let text = try JSONValueEncoder().encode(Primitives()).jsonText
        #expect(text == #"{\#(members),"list":[\#(expected.joined(separator: ","))]}"#)

        let alone: [any Encodable] = [
            Int?.none, true, Primitives.string, Int.min, Int8.min, Int16.max, Int32.min, Int64.max,
            UInt.max, UInt8.max, UInt16.max, UInt32.max, UInt64.min, 0.5, Float(-2), Primitives.decimal, Primitives.json,
        ]
        #expect(try alone.map { try JSONValueEncoder().encode($0).jsonText } == expected)
    }

    /// Scalars are read without a decoder of their own and paths built only for errors: every type,
    /// optional or not, round-trips, and a wrong value deep inside names its whole path.
    @Test func scalarsDecodeFromMembersAndElementsWithTheirPaths() throws {
        struct Scalars: Codable, Equatable {
            var bool = true, string = "s", int = Int.min, int8 = Int8.min, int16 = Int16.max, int32 = Int32.min
            var int64 = Int64.max, uint = UInt.max, uint8 = UInt8.max, uint16 = UInt16.max, uint32 = UInt32.max
            var uint64 = UInt64.max, double = 0.5, float = Float(-2)
            var present: String? = "p", absent: Int? = nil, list: [UInt16] = [1, 2], strings: [String]? = ["a"]
            var nested: [[Int8]] = [[1], [-1, 2]]
        }
        let value = Scalars()
        #expect(try JSONValueDecoder().decode(Scalars.self, from: JSONValueEncoder().encode(value)) == value)
        let withNull = try JSONValue(parsing: #"{"a":null}"#)
        #expect(try JSONValueDecoder().decode([String: Int?].self, from: withNull) == ["a": nil])

        struct Outer: Decodable { var outer: Inner }
        struct Inner: Decodable { var list: [[Int]]; var label: String? }
        for (body, path) in [
            (#"{"outer":{"list":[[1],[2,"x"]]}}"#, ["outer", "list", "1", "1"]),
            (#"{"outer":{"list":[],"label":true}}"#, ["outer", "label"]),
            (#"{"outer":{"list":[[300000000000000000000]]}}"#, ["outer", "list", "0", "0"]),
        ] {
            let error = try #require(throws: DecodingError.self) {
                try JSONValueDecoder().decode(Outer.self, from: Array(body.utf8))
            }
            switch error {
            case .typeMismatch(_, let context), .dataCorrupted(let context):
                #expect(context.codingPath.map(\.stringValue) == path, "\(body)")
            default: Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func collectionsAndOptionalsRoundTrip() throws {
        let value: [String: [Int?]] = ["a": [1, nil, 3]]
        let encoded = try JSONValueEncoder().encode(value)
        #expect(encoded.jsonText == #"{"a":[1,null,3]}"#)
        #expect(try JSONValueDecoder().decode([String: [Int?]].self, from: encoded) == value)
    }

    @Test func foundationCodersCarryJSONValueThroughDecimal() throws {
        let value: JSONValue = ["n": .number("12.5"), "list": [true, nil, "s"]]
        let data = try JSONEncoder().encode(value)
        let decoded = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(decoded["n"] == .number("12.5"))
        #expect(decoded["list"] == [true, nil, "s"])
    }
}

@Suite struct JSONEncoderScaleTests {
    @Test func largeCollectionsEncodeEveryElementInOrder() throws {
        let numbers = Array(0..<50_000)
        let encoded = try JSONValueEncoder().encode(["numbers": numbers])
        guard case .array(let elements)? = encoded["numbers"] else {
            Issue.record("expected an array")
            return
        }
        #expect(elements.count == numbers.count)
        #expect(elements.last == .number("49999"))
        #expect(try JSONValueDecoder().decode([String: [Int]].self, from: encoded) == ["numbers": numbers])
    }

    /// Encodes `count` members named m0, m1, … and then m`repeated` again with -1.
    struct ManyMembers: Encodable {
        var count: Int
        var repeated: Int

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: AnyKey.self)
            for index in 0..<count { try container.encode(index, forKey: AnyKey("m\(index)")) }
            try container.encode(-1, forKey: AnyKey("m\(repeated)"))
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    @Test(arguments: [(3, 1), (16, 15), (17, 0), (17, 16), (20_000, 12_345)])
    func objectsOfAnySizeKeepOrderAndOneMemberPerName(count: Int, repeated: Int) throws {
        guard case .object(let object)? = try JSONValueEncoder().encode(ManyMembers(count: count, repeated: repeated)) as JSONValue?
        else {
            Issue.record("expected an object")
            return
        }
        #expect(object.keys == (0..<count).map { "m\($0)" }, "encoding order, a name encoded twice kept in its first place")
        #expect(object["m\(repeated)"] == .number("-1"), "the later value wins")
        #expect(object["m\((repeated + 1) % count)"] == .number("\((repeated + 1) % count)"))
    }
}
