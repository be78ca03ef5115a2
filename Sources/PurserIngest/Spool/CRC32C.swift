/// CRC-32C (Castagnoli), the checksum that guards every spool frame and the cursor file.
///
/// Table-driven, one byte at a time: spool frames are small and written at webhook rate, so this
/// is nowhere near the cost of the `fsync` that follows it.
enum CRC32C {
    static func checksum(_ bytes: some Sequence<UInt8>, startingWith initial: UInt32 = 0) -> UInt32 {
        var crc = ~initial
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return ~crc
    }

    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = value & 1 == 1 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1
        }
        return value
    }
}
