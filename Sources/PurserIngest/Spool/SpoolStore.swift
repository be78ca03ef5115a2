import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A place in the spool: a segment and a byte offset in it.
public struct SpoolPosition: Comparable, Hashable, Sendable {
    public var segment: UInt64
    public var offset: Int

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.segment, lhs.offset) < (rhs.segment, rhs.offset)
    }
}

/// A record read back from the spool, with the position just after it (what to acknowledge).
public struct SpooledRecord: Sendable {
    public var record: SpoolRecord
    public var end: SpoolPosition
}

/// The spool on disk, synchronous and single-threaded; ``Spool`` serialises access to it.
///
/// Layout of the directory: numbered segment files (`00000000000000000007.seg`) holding
/// ``SpoolFrame``s appended in order, a `cursor` file naming the position of the first record not
/// yet acknowledged by Kafka, and a `LOCK` file held while a process uses the spool.
///
/// Crash safety rests on three rules: an append returns only after `fsync`; the cursor is replaced
/// atomically (write, `fsync`, rename) and moves only past acknowledged records; a segment is
/// deleted only after the cursor has moved beyond it. A crash can therefore tear only a tail that
/// was never acknowledged to Calypso, and can at worst publish a drained record once more (with the
/// same event id, which consumers deduplicate on).
final class SpoolStore {
    private struct Segment {
        var sequence: UInt64
        var file: SpoolFile
        var size: Int
    }

    let directory: String
    let maxBytes: Int
    /// Size after which appends start a new segment, so drained space is returned segment by segment.
    let segmentBytes: Int
    private let logger: Logger
    /// Held from opening until ``close()``; `nil` once closed.
    private var lock: SpoolFile?
    private var segments: [Segment] = []
    private var cursor = SpoolPosition(segment: 0, offset: 0)
    private(set) var recordCount = 0

    private static let cursorMagic: [UInt8] = Array("PSC1".utf8)

    /// Opens (creating if needed) the spool in `directory` and recovers it: drops segments the
    /// cursor has passed, counts the intact records, and truncates torn tails with a log line.
    init(directory: String, maxBytes: Int, segmentBytes: Int = 4 << 20, logger: Logger) throws(SpoolIOError) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.segmentBytes = segmentBytes
        self.logger = logger
        try SpoolFile.makeDirectory(directory)
        let lock = try SpoolFile(path: directory + "/LOCK")
        try lock.lockExclusively()
        self.lock = lock
        try SpoolFile.remove(cursorPath + ".tmp")
        cursor = try readCursor() ?? cursor
        try openSegments()
        try recover()
    }

    /// Bytes on disk from the cursor on, including any damaged bytes still to be skipped.
    var byteCount: Int {
        segments.reduce(0) { $0 + $1.size } - (segments.first?.sequence == cursor.segment ? cursor.offset : 0)
    }

    var isEmpty: Bool { recordCount == 0 }

    /// Appends the frames after the last record and makes them durable before returning.
    /// On failure nothing of them remains (the segment is cut back to its previous size).
    func append(frames: [[UInt8]]) throws(SpoolIOError) {
        if segments.isEmpty || segments[segments.count - 1].size >= segmentBytes {
            try startSegment()
        }
        let index = segments.count - 1
        let start = segments[index].size
        let bytes = frames.flatMap { $0 }
        do {
            try segments[index].file.write(bytes, at: start)
            try segments[index].file.synchronize()
        } catch {
            try? segments[index].file.truncate(to: start)
            throw error
        }
        segments[index].size += bytes.count
        recordCount += frames.count
    }

    /// Reads up to `limit` records from the cursor on, in order, without consuming them.
    func readBatch(limit: Int) throws(SpoolIOError) -> [SpooledRecord] {
        var batch: [SpooledRecord] = []
        for segment in segments where segment.sequence >= cursor.segment && batch.count < limit {
            let start = segment.sequence == cursor.segment ? cursor.offset : 0
            let bytes = try segment.file.read(count: max(segment.size - start, 0), at: start)
            var offset = 0
            scanning: while batch.count < limit {
                switch SpoolFrame.scan(bytes, at: offset) {
                case .frame(let payload, let end):
                    if let record = SpoolRecord(decoding: bytes[payload]) {
                        let position = SpoolPosition(segment: segment.sequence, offset: start + end)
                        batch.append(SpooledRecord(record: record, end: position))
                    } else {
                        logger.error(
                            "spool record of an unknown format skipped",
                            metadata: metadata(segment, start + offset)
                        )
                    }
                    offset = end
                case .damaged(let resumeAt):
                    logger.error(
                        "damaged spool bytes skipped",
                        metadata: metadata(segment, start + offset).merging(["purser.bytes": "\(resumeAt - offset)"]) {
                            $1
                        }
                    )
                    offset = resumeAt
                case .tornTail, .end:
                    break scanning
                }
            }
        }
        return batch
    }

    /// Records that everything up to `position` (`count` records) reached Kafka: moves the cursor
    /// durably, then deletes the segments it has left behind.
    func acknowledge(through position: SpoolPosition, count: Int) throws(SpoolIOError) {
        recordCount = max(recordCount - count, 0)
        if recordCount == 0 {
            cursor = SpoolPosition(segment: (segments.last?.sequence ?? cursor.segment) + 1, offset: 0)
        } else if let index = segments.firstIndex(where: { $0.sequence == position.segment }),
            position.offset >= segments[index].size, index + 1 < segments.count
        {
            cursor = SpoolPosition(segment: segments[index + 1].sequence, offset: 0)
        } else {
            cursor = max(cursor, position)
        }
        try writeCursor()
        try removeSegments(before: cursor.segment)
    }

    /// Closes the files and releases the directory for another process (or a later instance).
    func close() {
        segments = []
        lock = nil
    }

    // MARK: Recovery

    private func openSegments() throws(SpoolIOError) {
        let sequences = try SpoolFile.listDirectory(directory).compactMap(Self.sequence(ofSegmentNamed:)).sorted()
        for sequence in sequences {
            let file = try SpoolFile(path: segmentPath(sequence))
            segments.append(Segment(sequence: sequence, file: file, size: try file.size()))
        }
        try removeSegments(before: cursor.segment)
        if let first = segments.first, first.sequence > cursor.segment {
            cursor = SpoolPosition(segment: first.sequence, offset: 0)
        }
        if let first = segments.first, first.sequence == cursor.segment {
            cursor.offset = min(cursor.offset, first.size)
        }
    }

    private func recover() throws(SpoolIOError) {
        for index in segments.indices {
            let start = segments[index].sequence == cursor.segment ? cursor.offset : 0
            let bytes = try segments[index].file.read(count: segments[index].size - start, at: start)
            var offset = 0
            scanning: while true {
                switch SpoolFrame.scan(bytes, at: offset) {
                case .frame(let payload, let end):
                    if SpoolRecord(decoding: bytes[payload]) != nil { recordCount += 1 }
                    offset = end
                case .damaged(let resumeAt):
                    logger.error(
                        "damaged spool bytes found; they will be skipped",
                        metadata: metadata(segments[index], start + offset)
                            .merging(["purser.bytes": "\(resumeAt - offset)"]) { $1 }
                    )
                    offset = resumeAt
                case .tornTail:
                    logger.warning(
                        "torn spool tail truncated; it was never acknowledged",
                        metadata: metadata(segments[index], start + offset)
                            .merging(["purser.bytes": "\(bytes.count - offset)"]) { $1 }
                    )
                    try segments[index].file.truncate(to: start + offset)
                    try segments[index].file.synchronize()
                    segments[index].size = start + offset
                    break scanning
                case .end:
                    break scanning
                }
            }
        }
        logger.info(
            "spool opened",
            metadata: ["purser.spool.records": "\(recordCount)", "purser.spool.bytes": "\(byteCount)"]
        )
    }

    // MARK: Files

    private func startSegment() throws(SpoolIOError) {
        let sequence = max((segments.last?.sequence ?? 0) + (segments.isEmpty ? 0 : 1), cursor.segment)
        let file = try SpoolFile(path: segmentPath(sequence))
        try SpoolFile.synchronizeDirectory(directory)
        segments.append(Segment(sequence: sequence, file: file, size: try file.size()))
    }

    private func removeSegments(before sequence: UInt64) throws(SpoolIOError) {
        let drained = segments.prefix { $0.sequence < sequence }
        guard !drained.isEmpty else { return }
        for segment in drained {
            try SpoolFile.remove(segment.file.path)
        }
        segments.removeFirst(drained.count)
        try SpoolFile.synchronizeDirectory(directory)
    }

    private var cursorPath: String { directory + "/cursor" }

    private func segmentPath(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return directory + "/" + String(repeating: "0", count: max(20 - digits.count, 0)) + digits + ".seg"
    }

    private static func sequence(ofSegmentNamed name: String) -> UInt64? {
        guard name.hasSuffix(".seg"), name.count == 24 else { return nil }
        return UInt64(name.dropLast(4))
    }

    private func readCursor() throws(SpoolIOError) -> SpoolPosition? {
        let bytes = try SpoolFile(path: cursorPath).read(count: 24, at: 0)
        var reader = ByteReader(bytes[...])
        guard bytes.count == 24, reader.readBytes(4)?.elementsEqual(Self.cursorMagic) == true,
            let segment = reader.readUInt64(), let offset = reader.readUInt64(), let checksum = reader.readUInt32(),
            CRC32C.checksum(bytes[4..<20]) == checksum
        else {
            if !bytes.isEmpty { logger.error("spool cursor unreadable; draining from the oldest segment") }
            return nil
        }
        return SpoolPosition(segment: segment, offset: Int(offset))
    }

    private func writeCursor() throws(SpoolIOError) {
        var bytes = Self.cursorMagic
        bytes.appendBigEndian(cursor.segment)
        bytes.appendBigEndian(UInt64(cursor.offset))
        bytes.appendBigEndian(CRC32C.checksum(bytes[4...]))
        let temporary = cursorPath + ".tmp"
        let file = try SpoolFile(path: temporary, flags: O_RDWR | O_CREAT | O_TRUNC)
        try file.write(bytes, at: 0)
        try file.synchronize()
        try SpoolFile.rename(temporary, to: cursorPath)
        try SpoolFile.synchronizeDirectory(directory)
    }

    private func metadata(_ segment: Segment, _ offset: Int) -> Logger.Metadata {
        ["purser.spool.segment": "\(segment.sequence)", "purser.spool.offset": "\(offset)"]
    }
}
