import Testing

@testable import PurserJSON

@Suite struct JSONParserTests {
    @Test(arguments: [
        #"{"amount":0.123456789012345678,"big":1000000000.000000000000000001,"int":123456789012345678901234567890}"#,
        #"{"z":1,"a":2,"m":[true,false,null,-0,1e400,2.5E-3,"x"]}"#,
        #"{"text":"caf\u00e9 \u2713 \ud83d\ude00","nested":{"b":{},"a":[]}}"#,
        #"[]"#,
        #""just a string""#,
        #"-12.50"#,
    ])
    func compactDocumentsRoundTripByteForByte(text: String) throws {
        let value = try JSONValue(parsing: text)
        let reparsed = try JSONValue(parsing: value.serialized())
        #expect(reparsed == value)
        if !text.contains(#"\u"#) {
            #expect(value.jsonText == text)
        }
    }

    @Test func numbersKeepTheirLiteralText() throws {
        let value = try JSONValue(parsing: #" { "a" : 1.10 , "b" : 1e-3 , "c": 0.000000000000000001 } "#)
        #expect(value["a"] == .number("1.10"))
        #expect(value["b"] == .number("1e-3"))
        #expect(value["c"] == .number("0.000000000000000001"))
        #expect(value.jsonText == #"{"a":1.10,"b":1e-3,"c":0.000000000000000001}"#)
    }

    @Test func objectsKeepMemberOrder() throws {
        let value = try JSONValue(parsing: #"{"zeta":1,"alpha":2,"mid":3}"#)
        #expect(value.objectValue?.keys == ["zeta", "alpha", "mid"])
    }

    @Test func escapesDecodeToTheirCharacters() throws {
        let value = try JSONValue(parsing: #""a\"b\\c\/d\n\t\u0041\ud83d\ude00""#)
        #expect(value == .string("a\"b\\c/d\n\tA😀"))
    }

    @Test func unescapedTextIsKeptByteForByte() throws {
        let text = "héllo wörld 😀 \u{7F}"
        #expect(try JSONValue(parsing: "\"\(text)\"") == .string(text))
        #expect(try JSONValue(parsing: #"["plain","then\u0041 escape","é\n"]"#) == .array([.string("plain"), .string("thenA escape"), .string("é\n")]))
    }

    @Test(arguments: [
        ("", 0, "unexpected end of input"),
        ("{\"a\":1,}", 7, "expected a member name"),
        ("[1,2,]", 5, "expected a value"),
        ("01", 0, "leading zero"),
        ("1.", 2, "expected a digit after '.'"),
        ("+1", 0, "expected a value"),
        ("NaN", 0, "expected a value"),
        ("-", 1, "expected a digit after '-'"),
        ("1e", 2, "exponent"),
        ("{\"a\":1} x", 8, "after the value"),
        ("{\"a\":1,\"a\":2}", 7, "duplicate member name \"a\""),
        ("// c\n1", 0, "expected a value"),
        ("\"tab\there\"", 4, "control character"),
        ("\"\\x\"", 2, "invalid escape"),
        ("\"\\ud83d\"", 1, "lone high surrogate"),
        ("\"\\ude00\"", 1, "lone low surrogate"),
        ("\"abc", 0, "unterminated string"),
        ("tru", 0, "expected 'true'"),
        ("{\"a\" 1}", 5, "expected ':'"),
    ])
    func malformedInputIsRejectedWithItsPosition(text: String, offset: Int, reason: String) {
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            return error.offset == offset && error.reason.contains(reason)
                && error.description.hasPrefix("invalid JSON at byte \(offset):")
        }
    }

    @Test(arguments: [1, 15, 16, 17, 39])
    func duplicateNamesAreFoundInObjectsOfAnySize(duplicateAt index: Int) throws {
        let names = (0..<40).map { $0 == index ? "m0" : "m\($0)" }
        let text = "{" + names.map { "\"\($0)\":1" }.joined(separator: ",") + "}"
        let bytes = Array(text.utf8)
        let secondM0 = bytes.indices.filter { bytes[$0...].starts(with: #""m0""#.utf8) }[1]
        #expect(throws: JSONParseError(offset: secondM0, reason: "duplicate member name \"m0\"")) {
            try JSONValue(parsing: text)
        }
        let unique = "{" + (0..<40).map { "\"m\($0)\":1" }.joined(separator: ",") + "}"
        #expect(try JSONValue(parsing: unique).objectValue?.keys.count == 40)
    }

    @Test func invalidUTF8IsRejected() {
        let bytes: [UInt8] = [UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")]
        #expect(throws: JSONParseError(offset: 0, reason: "string is not valid UTF-8")) {
            try JSONValue(parsing: bytes)
        }
    }

    @Test func nestingIsBounded() throws {
        let allowed =
            String(repeating: "[", count: JSONValue.maximumDepth)
            + String(repeating: "]", count: JSONValue.maximumDepth)
        _ = try JSONValue(parsing: allowed)
        let tooDeep = "[" + allowed + "]"
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: tooDeep) }
    }
}

@Suite struct JSONWriterTests {
    @Test func controlCharactersAndQuotesAreEscaped() throws {
        let value = JSONValue.string("q\"b\\n\n\u{1}\u{1f}é")
        #expect(value.jsonText == #""q\"b\\n\n\u0001\u001fé""#)
        #expect(try JSONValue(parsing: value.serialized()) == value)
    }

    @Test func prettyPrintingIndentsAndKeepsOrder() throws {
        let value: JSONValue = ["b": [1, "x"], "a": [:], "c": []]
        let expected = """
            {
              "b": [
                1,
                "x"
              ],
              "a": {},
              "c": []
            }

            """
        #expect(value.prettyPrinted() == expected)
        #expect(try JSONValue(parsing: value.prettyPrinted()) == value)
    }

    @Test func assigningAnExistingKeyKeepsItsPosition() {
        var object: JSONObject = ["a": 1, "b": 2]
        object["a"] = "one"
        object["c"] = nil
        object["b"] = nil
        #expect(JSONValue.object(object).jsonText == #"{"a":"one"}"#)
    }
}

@Suite struct JSONObjectTests {
    @Test func aRepeatedKeyKeepsItsFirstPositionAndLastValue() {
        let object = JSONObject([("a", 1), ("b", 2), ("a", 3)])
        #expect(object.keys == ["a", "b"])
        #expect(object["a"] == 3)
    }

    @Test func largeObjectsParseWithEveryMember() throws {
        let members = (0..<20_000).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        let value = try JSONValue(parsing: "{\(members)}")
        let object = try #require(value.objectValue)
        #expect(object.count == 20_000)
        #expect(object.keys.last == "k19999")
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: "{\(members),\"k7\":0}") }
    }
}
