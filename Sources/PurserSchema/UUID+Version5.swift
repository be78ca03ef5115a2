import Crypto
import Foundation

extension UUID {
    /// The name-based UUID, version 5 (SHA-1), of `name` in `namespace` (RFC 9562, section 5.5).
    ///
    /// The same namespace and name always give the same UUID, which is what makes event ids
    /// deterministic across retries and replays.
    public static func version5(namespace: UUID, name: String) -> UUID {
        var hash = Insecure.SHA1()
        withUnsafeBytes(of: namespace.uuid) { hash.update(bufferPointer: $0) }
        hash.update(data: Array(name.utf8))
        var bytes = Array(hash.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }

    /// The canonical lowercase text form, as CloudEvents ids and Calypso use it.
    public var lowercasedString: String {
        // Written here: Foundation formats each byte with `snprintf`, then the text is lowercased.
        withUnsafeBytes(of: uuid) { bytes in
            var text: [UInt8] = []
            text.reserveCapacity(36)
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
                LowercaseHex.append(byte, to: &text)
            }
            return String(decoding: text, as: UTF8.self)
        }
    }
}
