/// Lowercase hexadecimal text, as trace contexts and UUIDs write their bytes.
enum LowercaseHex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Appends the two digits of `byte` to `text`.
    static func append(_ byte: UInt8, to text: inout [UInt8]) {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0xF)])
    }
}
