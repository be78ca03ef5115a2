/// The on-disk frame around each spool record: a magic number, the payload length, a CRC-32C over
/// length and payload, then the payload. The checksum makes a torn or corrupted frame detectable;
/// the magic number lets a reader find the next intact frame after a damaged one.
enum SpoolFrame {
    static let magic: [UInt8] = Array("PSP1".utf8)
    static let headerSize = 12
    /// Far above any webhook body ingest accepts; a larger length can only be damage.
    static let maxPayloadSize = 64 << 20

    static func encode(_ payload: [UInt8]) -> [UInt8] {
        var length: [UInt8] = []
        length.appendBigEndian(UInt32(payload.count))
        var frame = magic + length
        frame.appendBigEndian(CRC32C.checksum(payload, startingWith: CRC32C.checksum(length)))
        frame.append(contentsOf: payload)
        return frame
    }

    enum ScanResult: Equatable {
        /// An intact frame whose payload is `payload`, ending at `end`.
        case frame(payload: Range<Int>, end: Int)
        /// Damaged bytes from the scan position up to `resumeAt`, where an intact frame starts.
        case damaged(resumeAt: Int)
        /// No intact frame from the scan position to the end: a torn tail (or nothing at all).
        case tornTail
        case end
    }

    /// Reads the frame at `offset` in `bytes`, or tells how far the damage there extends.
    static func scan(_ bytes: [UInt8], at offset: Int) -> ScanResult {
        guard offset < bytes.count else { return .end }
        if let payload = intactFrame(bytes, at: offset) {
            return .frame(payload: payload, end: payload.upperBound)
        }
        var candidate = offset + 1
        while candidate + headerSize <= bytes.count {
            if bytes[candidate] == magic[0], intactFrame(bytes, at: candidate) != nil {
                return .damaged(resumeAt: candidate)
            }
            candidate += 1
        }
        return .tornTail
    }

    private static func intactFrame(_ bytes: [UInt8], at offset: Int) -> Range<Int>? {
        guard offset + headerSize <= bytes.count,
            bytes[offset..<offset + 4].elementsEqual(magic)
        else { return nil }
        var header = ByteReader(bytes[offset + 4..<offset + headerSize])
        guard let length = header.readUInt32().map(Int.init), let checksum = header.readUInt32(),
            length <= maxPayloadSize, offset + headerSize + length <= bytes.count
        else { return nil }
        let payload = offset + headerSize..<offset + headerSize + length
        let lengthChecksum = CRC32C.checksum(bytes[offset + 4..<offset + 8])
        guard CRC32C.checksum(bytes[payload], startingWith: lengthChecksum) == checksum else { return nil }
        return payload
    }
}
