extension JSONValue {
    /// The value as compact JSON (no insignificant whitespace), UTF-8 encoded.
    ///
    /// Numbers are written as their literal text, object members in their order, strings with
    /// only the escapes JSON requires (`"`, `\`, control characters).
    public func serialized() -> [UInt8] {
        var output: [UInt8] = []
        write(into: &output, indent: nil)
        return output
    }

    /// The value as JSON indented by two spaces per level, ending with a newline; for files that
    /// people read and diff.
    public func prettyPrinted() -> String {
        var output: [UInt8] = []
        write(into: &output, indent: 0)
        output.append(UInt8(ascii: "\n"))
        return String(decoding: output, as: UTF8.self)
    }

    /// The compact JSON as text.
    public var jsonText: String { String(decoding: serialized(), as: UTF8.self) }

    private func write(into output: inout [UInt8], indent: Int?) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let literal): output.append(contentsOf: literal.utf8)
        case .string(let string): Self.writeString(string, into: &output)
        case .array(let elements):
            Self.writeContainer(elements, open: "[", close: "]", into: &output, indent: indent) {
                $0.write(into: &$1, indent: $2)
            }
        case .object(let object):
            Self.writeContainer(object.members, open: "{", close: "}", into: &output, indent: indent, Self.writeMember)
        }
    }

    private static func writeContainer<Element>(
        _ elements: [Element],
        open: Unicode.Scalar,
        close: Unicode.Scalar,
        into output: inout [UInt8],
        indent: Int?,
        _ writeElement: (Element, inout [UInt8], Int?) -> Void
    ) {
        output.append(UInt8(ascii: open))
        let inner = indent.map { $0 + 2 }
        for (index, element) in elements.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            writeNewline(indent: inner, into: &output)
            writeElement(element, &output, inner)
        }
        if !elements.isEmpty { writeNewline(indent: indent, into: &output) }
        output.append(UInt8(ascii: close))
    }

    private static func writeMember(_ member: JSONObject.Member, into output: inout [UInt8], indent: Int?) {
        writeString(member.key, into: &output)
        output.append(UInt8(ascii: ":"))
        if indent != nil { output.append(UInt8(ascii: " ")) }
        member.value.write(into: &output, indent: indent)
    }

    private static func writeNewline(indent: Int?, into output: inout [UInt8]) {
        guard let indent else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
    }

    private static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        let needsEscape = { (byte: UInt8) in byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") }
        // The usual case, scanned and copied in one piece (the UTF-8 view's iterator is much slower).
        let isCopied =
            string.utf8.withContiguousStorageIfAvailable { bytes in
                guard !bytes.contains(where: needsEscape) else { return false }
                output.append(contentsOf: bytes)
                return true
            } ?? false
        if isCopied {
            output.append(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case 0x0A: output.append(contentsOf: #"\n"#.utf8)
            case 0x0D: output.append(contentsOf: #"\r"#.utf8)
            case 0x09: output.append(contentsOf: #"\t"#.utf8)
            case 0x00..<0x20:
                let hex = String(byte, radix: 16)
                output.append(contentsOf: "\\u00\(hex.count == 1 ? "0" : "")\(hex)".utf8)
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { jsonText }
}
