import Dispatch
import Logging
import Synchronization

/// Why the spool refused a record. Ingest answers 503 with `Retry-After` for every case.
public struct SpoolError: Error, CustomStringConvertible {
    private enum Code { case full, closed, io }
    private let code: Code
    /// The failed file system call, for `.io`.
    public let underlying: SpoolIOError?

    /// The record would take the spool past `INGEST_SPOOL_MAX_BYTES`.
    public static let full = SpoolError(code: .full, underlying: nil)
    /// The spool was closed (the service is stopping).
    public static let closed = SpoolError(code: .closed, underlying: nil)

    static func io(_ error: SpoolIOError) -> SpoolError {
        SpoolError(code: .io, underlying: error)
    }

    public var isFull: Bool { code == .full }

    public var description: String {
        switch code {
        case .full: "spool full"
        case .closed: "spool closed"
        case .io: underlying.map(\.description) ?? "spool write failed"
        }
    }
}

/// How much the spool holds, for metrics and readiness.
public struct SpoolStats: Sendable, Equatable {
    /// Records written or being written and not yet acknowledged by Kafka.
    public var records: Int
    /// Bytes those records take on disk.
    public var bytes: Int
}

/// The local, fsynced, checksummed, append-only spool that keeps verified webhooks while Kafka is
/// unreachable, so ingest can still answer Calypso 200 without losing anything.
///
/// Appends are durable when ``append(_:)`` returns. Concurrent appends share one `fsync` (group
/// commit): while one batch is being written, the next one gathers. All file work runs on one
/// dispatch queue, off the cooperative thread pool. Reading and acknowledging are for a single
/// drainer (see ``SpoolDrainer``).
///
/// The files stay in the directory across restarts; opening recovers them (see ``SpoolStore``).
public final class Spool: Sendable {
    private struct PendingAppend {
        var frame: [UInt8]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var queued: [PendingAppend] = []
        var isWriting = false
        var isClosed = false
        /// Records and bytes queued or being written.
        var pendingRecords = 0
        var pendingBytes = 0
        /// What the files hold, refreshed after every file operation.
        var storedRecords: Int
        var storedBytes: Int
    }

    public let maxBytes: Int
    private let store: Mutex<SpoolStore>
    private let state: Mutex<State>
    private let queue = DispatchQueue(label: "purser.ingest.spool")

    /// Opens the spool in `directory`, creating it if needed, and recovers what a previous process
    /// left there (truncating a torn tail with a log line).
    /// - Throws: ``SpoolIOError`` when the directory cannot be used or another process holds it.
    public init(directory: String, maxBytes: Int, segmentBytes: Int = 4 << 20, logger: Logger) throws {
        let store = try SpoolStore(directory: directory, maxBytes: maxBytes, segmentBytes: segmentBytes, logger: logger)
        let recordCount = store.recordCount
        self.maxBytes = maxBytes
        self.state = Mutex(State(storedRecords: recordCount, storedBytes: store.byteCount))
        self.store = Mutex(store)
    }

    public var stats: SpoolStats {
        state.withLock {
            SpoolStats(records: $0.storedRecords + $0.pendingRecords, bytes: $0.storedBytes + $0.pendingBytes)
        }
    }

    /// Whether no record is waiting for Kafka (counting appends still being written).
    public var isEmpty: Bool { stats.records == 0 }

    /// Whether a record of `bytes` more would still fit.
    public func hasRoom(for bytes: Int = 0) -> Bool {
        stats.bytes + bytes <= maxBytes
    }

    /// Appends `record` after every record appended before it; returns once it is on disk.
    /// - Throws: ``SpoolError/full`` without writing anything when it would not fit, or an I/O
    ///   ``SpoolError`` when writing failed (nothing of the record remains).
    public func append(_ record: SpoolRecord) async throws {
        let frame = SpoolFrame.encode(record.encoded())
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let startWriting = state.withLock { state -> Result<Bool, SpoolError> in
                guard !state.isClosed else { return .failure(.closed) }
                guard state.storedBytes + state.pendingBytes + frame.count <= maxBytes else { return .failure(.full) }
                state.queued.append(PendingAppend(frame: frame, continuation: continuation))
                state.pendingRecords += 1
                state.pendingBytes += frame.count
                defer { state.isWriting = true }
                return .success(!state.isWriting)
            }
            switch startWriting {
            case .failure(let error): continuation.resume(throwing: error)
            case .success(true): queue.async { self.writeQueuedAppends() }
            case .success(false): break
            }
        }
    }

    /// Refuses further appends, waits for those under way, then closes the files and releases the
    /// directory's lock, so another instance can open it at once.
    public func close() async {
        state.withLock { $0.isClosed = true }
        await withCheckedContinuation { continuation in
            // Queued after any pending write, so those finish first.
            queue.async {
                self.store.withLock { $0.close() }
                continuation.resume()
            }
        }
    }

    /// The oldest records not yet acknowledged, in append order, at most `limit`.
    public func nextBatch(limit: Int) async throws -> [SpooledRecord] {
        try await onQueue { store throws(SpoolIOError) in try store.readBatch(limit: limit) }
    }

    /// Marks the `count` oldest records, ending at `position`, as published; their space is freed.
    public func acknowledge(through position: SpoolPosition, count: Int) async throws {
        try await onQueue { store throws(SpoolIOError) in try store.acknowledge(through: position, count: count) }
    }

    /// Writes queued appends in batches, one `fsync` per batch, until none is left. Runs on `queue`.
    private func writeQueuedAppends() {
        while true {
            let batch = state.withLock { state in
                defer { state.queued = [] }
                if state.queued.isEmpty { state.isWriting = false }
                return state.queued
            }
            guard !batch.isEmpty else { return }
            let result = Result { () throws(SpoolIOError) in
                try store.withLock { store throws(SpoolIOError) in try store.append(frames: batch.map(\.frame)) }
            }
            refreshStoredCounts(finishedRecords: batch.count, finishedBytes: batch.reduce(0) { $0 + $1.frame.count })
            for append in batch {
                append.continuation.resume(with: result.mapError { SpoolError.io($0) })
            }
        }
    }

    private func refreshStoredCounts(finishedRecords: Int = 0, finishedBytes: Int = 0) {
        let (records, bytes) = store.withLock { ($0.recordCount, $0.byteCount) }
        state.withLock { state in
            state.pendingRecords -= finishedRecords
            state.pendingBytes -= finishedBytes
            state.storedRecords = records
            state.storedBytes = bytes
        }
    }

    private func onQueue<Value: Sendable>(
        _ operation: @escaping @Sendable (SpoolStore) throws(SpoolIOError) -> Value
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                let result = Result { () throws(SpoolIOError) in
                    try self.store.withLock { store throws(SpoolIOError) in try operation(store) }
                }
                self.refreshStoredCounts()
                continuation.resume(with: result.mapError { SpoolError.io($0) })
            }
        }
    }
}
