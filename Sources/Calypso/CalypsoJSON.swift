import NIOCore
import PurserJSON

/// Decoding of Calypso bodies: numbers keep their exact digits, unknown members are ignored.
package enum CalypsoJSON {
    package static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws -> T {
        try JSONValueDecoder().decode(type, from: body.readableBytesView)
    }
}
