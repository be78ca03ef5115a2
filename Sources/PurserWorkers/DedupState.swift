import Synchronization

/// A ``DedupWindow`` per assigned input partition, shared by a worker's concurrent records.
///
/// A partition's window exists only while the partition is assigned: it is rebuilt from the
/// worker's co-partitioned output when assigned and dropped when revoked, so memory follows the
/// assignment, and a partition's claims always live with the one instance that owns it.
public final class DedupState: Sendable {
    /// Processing a record of a partition whose window was never built: the runtime broke its
    /// promise to report assignments first, and acting without the window could emit twice.
    public struct PartitionNotReady: Error, CustomStringConvertible {
        public var partition: Int32
        public var description: String { "dedup state of partition \(partition) is not loaded" }
    }

    private let limits: DedupWindow.Limits
    private let windows = Mutex<[Int32: DedupWindow]>([:])

    public init(limits: DedupWindow.Limits = DedupWindow.Limits()) {
        self.limits = limits
    }

    /// Builds the window of `partition` from the keys already emitted, then makes it live.
    ///
    /// The window is filled outside the lock and published in one step, so records of other
    /// partitions keep flowing while one partition loads.
    public func load(
        partition: Int32,
        _ fill: (inout DedupWindow) async throws -> Void
    ) async throws {
        var window = DedupWindow(limits: limits)
        try await fill(&window)
        windows.withLock { $0[partition] = window }
    }

    public func drop(partition: Int32) {
        windows.withLock { $0[partition] = nil }
    }

    /// See ``DedupWindow/peek(_:inputOffset:)``.
    public func peek(_ key: String, partition: Int32, inputOffset: Int64) throws(PartitionNotReady) -> DedupWindow.Claim {
        let claim = windows.withLock { $0[partition]?.peek(key, inputOffset: inputOffset) }
        guard let claim else { throw PartitionNotReady(partition: partition) }
        return claim
    }

    /// See ``DedupWindow/claim(_:inputOffset:atMilliseconds:)``.
    public func claim(
        _ key: String,
        partition: Int32,
        inputOffset: Int64,
        atMilliseconds now: Int64
    ) throws(PartitionNotReady) -> DedupWindow.Claim {
        let claim = windows.withLock { windows -> DedupWindow.Claim? in
            windows[partition]?.claim(key, inputOffset: inputOffset, atMilliseconds: now)
        }
        guard let claim else { throw PartitionNotReady(partition: partition) }
        return claim
    }

    /// See ``DedupWindow/release(_:inputOffset:)``; nothing to release when the partition is not loaded.
    public func release(_ key: String, partition: Int32, inputOffset: Int64) {
        windows.withLock { _ = $0[partition]?.release(key, inputOffset: inputOffset) }
    }

    /// Number of keys held across all partitions (for the memory gauge).
    public var count: Int {
        windows.withLock { $0.values.reduce(0) { $0 + $1.count } }
    }
}
