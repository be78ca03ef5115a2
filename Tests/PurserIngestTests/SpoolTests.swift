import Foundation
import Logging
import Testing

@testable import PurserIngest

@Suite("Spool")
struct SpoolTests {
    @Test("CRC-32C matches the standard check value")
    func checksumVector() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test("a record survives encoding byte for byte")
    func recordRoundTrip() throws {
        let record = sampleRecord(1, bodySize: 300)
        let frame = SpoolFrame.encode(record.encoded())
        guard case .frame(let payload, let end) = SpoolFrame.scan(frame, at: 0) else {
            Issue.record("an intact frame was not recognised")
            return
        }
        #expect(end == frame.count)
        #expect(SpoolRecord(decoding: frame[payload]) == record)
    }

    @Test("appended records come back in order after reopening")
    func appendAndReopen() async throws {
        let directory = try TemporaryDirectory()
        let records = (0..<20).map { sampleRecord($0) }
        do {
            let spool = try Spool(directory: directory.path, maxBytes: 1 << 20, logger: testLogger)
            for record in records { try await spool.append(record) }
            #expect(spool.stats.records == 20)
            await spool.close()
        }
        let reopened = try Spool(directory: directory.path, maxBytes: 1 << 20, logger: testLogger)
        #expect(reopened.stats.records == 20)
        #expect(try await reopened.nextBatch(limit: 100).map(\.record) == records)
    }

    @Test("concurrent appends are all kept, each once")
    func concurrentAppends() async throws {
        let directory = try TemporaryDirectory()
        let spool = try Spool(directory: directory.path, maxBytes: 1 << 24, logger: testLogger)
        let records = (0..<200).map { sampleRecord($0) }
        try await withThrowingTaskGroup { group in
            for record in records {
                group.addTask { try await spool.append(record) }
            }
            try await group.waitForAll()
        }
        let stored = try await spool.nextBatch(limit: 1000).map(\.record)
        #expect(stored.count == 200)
        #expect(Set(stored) == Set(records))
        #expect(spool.stats.records == 200)
    }

    @Test("acknowledged records are gone, also after reopening; draining everything frees the files")
    func acknowledge() async throws {
        let directory = try TemporaryDirectory()
        let records = (0..<5).map { sampleRecord($0) }
        do {
            let spool = try Spool(directory: directory.path, maxBytes: 1 << 20, logger: testLogger)
            for record in records { try await spool.append(record) }
            let firstThree = try await spool.nextBatch(limit: 3)
            try await spool.acknowledge(through: firstThree[2].end, count: 3)
            #expect(spool.stats.records == 2)
            await spool.close()
        }
        let reopened = try Spool(directory: directory.path, maxBytes: 1 << 20, logger: testLogger)
        let rest = try await reopened.nextBatch(limit: 10)
        #expect(rest.map(\.record) == Array(records[3...]))
        try await reopened.acknowledge(through: rest[1].end, count: 2)
        #expect(reopened.stats == SpoolStats(records: 0, bytes: 0))
        #expect(try directory.segmentFiles().isEmpty)
        try await reopened.append(records[0])
        #expect(try await reopened.nextBatch(limit: 10).map(\.record) == [records[0]])
    }

    @Test("drained segments are deleted while later ones remain")
    func segmentsRoll() async throws {
        let directory = try TemporaryDirectory()
        let spool = try Spool(directory: directory.path, maxBytes: 1 << 20, segmentBytes: 1000, logger: testLogger)
        let records = (0..<12).map { sampleRecord($0, bodySize: 400) }
        for record in records { try await spool.append(record) }
        let segmentsBefore = try directory.segmentFiles()
        #expect(segmentsBefore.count > 3)
        let bytesBefore = spool.stats.bytes
        let batch = try await spool.nextBatch(limit: 6)
        try await spool.acknowledge(through: batch[5].end, count: 6)
        #expect(try directory.segmentFiles().count < segmentsBefore.count)
        #expect(spool.stats.bytes < bytesBefore)
        #expect(try await spool.nextBatch(limit: 100).map(\.record) == Array(records[6...]))
    }

    @Test("a record that would pass the size bound is refused and nothing is written")
    func full() async throws {
        let directory = try TemporaryDirectory()
        let spool = try Spool(directory: directory.path, maxBytes: 2000, logger: testLogger)
        try await spool.append(sampleRecord(0, bodySize: 900))
        let statsBefore = spool.stats
        await #expect(throws: SpoolError.self) { try await spool.append(sampleRecord(1, bodySize: 1500)) }
        #expect(spool.stats == statsBefore)
        #expect(!spool.hasRoom(for: 1500))
        #expect(try await spool.nextBatch(limit: 10).count == 1)
    }

    @Test("a spool in use cannot be opened a second time until it is closed")
    func exclusive() async throws {
        let directory = try TemporaryDirectory()
        let spool = try Spool(directory: directory.path, maxBytes: 1 << 20, logger: testLogger)
        #expect(throws: SpoolIOError.self) {
            _ = try Spool(directory: directory.path, maxBytes: 1 << 20, logger: testLogger)
        }
        await spool.close()
        let reopened = try Spool(directory: directory.path, maxBytes: 1 << 20, logger: testLogger)
        await #expect(throws: SpoolError.self) { try await spool.append(sampleRecord(0)) }
        await reopened.close()
    }

    @Test("a tail torn at any byte of the last record is detected and every earlier record recovered")
    func tornTailAtEveryOffset() throws {
        let directory = try TemporaryDirectory()
        let records = (0..<3).map { sampleRecord($0, bodySize: 60) }
        var lastRecordStart = 0
        do {
            let store = try SpoolStore(directory: directory.path, maxBytes: 1 << 20, logger: testLogger)
            try store.append(frames: records.dropLast().map { SpoolFrame.encode($0.encoded()) })
            lastRecordStart = store.byteCount
            try store.append(frames: [SpoolFrame.encode(records[2].encoded())])
        }
        let segment = try #require(try directory.segmentFiles().first)
        let intact = try Data(contentsOf: segment)
        let appendedAfterRecovery = sampleRecord(99, bodySize: 60)
        for cut in lastRecordStart..<intact.count {
            try intact.prefix(cut).write(to: segment)
            let store = try SpoolStore(directory: directory.path, maxBytes: 1 << 20, logger: testLogger)
            #expect(store.recordCount == 2, "cut at \(cut)")
            #expect(try store.readBatch(limit: 10).map(\.record) == Array(records.prefix(2)), "cut at \(cut)")
            try store.append(frames: [SpoolFrame.encode(appendedAfterRecovery.encoded())])
            #expect(
                try store.readBatch(limit: 10).map(\.record) == records.prefix(2) + [appendedAfterRecovery],
                "cut at \(cut)"
            )
        }
    }

    @Test("damaged bytes inside the spool are skipped and the records after them kept")
    func damagedMiddle() throws {
        let directory = try TemporaryDirectory()
        let records = (0..<3).map { sampleRecord($0, bodySize: 60) }
        var secondRecordStart = 0
        do {
            let store = try SpoolStore(directory: directory.path, maxBytes: 1 << 20, logger: testLogger)
            try store.append(frames: [SpoolFrame.encode(records[0].encoded())])
            secondRecordStart = store.byteCount
            try store.append(frames: records.dropFirst().map { SpoolFrame.encode($0.encoded()) })
        }
        let segment = try #require(try directory.segmentFiles().first)
        var bytes = try Data(contentsOf: segment)
        bytes[secondRecordStart + 40] ^= 0xFF
        try bytes.write(to: segment)
        let store = try SpoolStore(directory: directory.path, maxBytes: 1 << 20, logger: testLogger)
        #expect(store.recordCount == 2)
        #expect(try store.readBatch(limit: 10).map(\.record) == [records[0], records[2]])
    }
}

let testLogger = Logger(label: "purser-ingest-tests")

func sampleRecord(_ index: Int, bodySize: Int = 200) -> SpoolRecord {
    let prefix = Array(#"{"id":\#(index),"data":""#.utf8)
    let body =
        prefix + Array(repeating: UInt8(ascii: "a") + UInt8(index % 26), count: max(bodySize - prefix.count - 2, 0))
        + Array(#""}"#.utf8)
    return SpoolRecord(
        body: body,
        keyId: "key-\(index % 2)",
        receivedAt: "2026-11-25T10:00:00.\(String(format: "%03d", index % 1000))Z",
        traceparent: "00-\(String(repeating: "a", count: 32))-\(String(repeating: "b", count: 16))-01"
    )
}

/// A fresh directory under the system's temporary directory, removed when the value goes away.
final class TemporaryDirectory: Sendable {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("purser-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func segmentFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "seg" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
