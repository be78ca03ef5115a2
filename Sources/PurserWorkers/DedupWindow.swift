/// The keys one partition has already turned into an output, kept for a bounded horizon.
///
/// A worker that must act once per key (a Calypso transaction, an expired purse) claims the key
/// before emitting. Claims are scoped to the input offset that made them: when the runtime runs
/// the same input record again (its outputs were not acknowledged), the claim still holds and the
/// worker emits the same output again, with the same deterministic id; any other record with the
/// key is a duplicate. After a restart or a partition move the window is rebuilt from the worker's
/// own co-partitioned output with ``recordEmitted(_:atMilliseconds:)``, so no claim is lost.
///
/// Memory is bounded twice: entries older than ``Limits/horizon`` (measured against the newest
/// timestamp seen) are dropped, and so is the oldest entry beyond ``Limits/maxEntries``. The
/// horizon is safe when it covers every way a record can come back: Calypso's own webhook retries
/// (about 91 hours), a replay of any topic upstream (no further back than its retention, 14 days)
/// and the redrive of a dead letter (kept 30 days), since a redriven webhook flows through every
/// later worker again. A rebuild only sees what the output topic still retains, so that retention
/// must cover the horizon too (the public outputs keep 400 days). A test checks both against
/// `topics/`.
public struct DedupWindow: Sendable {
    public struct Limits: Sendable, Hashable {
        /// How long a key is remembered after it was emitted. Default: 30 days, the longest any
        /// input or dead letter is kept.
        public var horizon: Duration = .seconds(30 * 24 * 3600)
        /// The most keys one partition keeps. Default: 1,000,000 (about 100 MB at worst).
        public var maxEntries = 1_000_000

        public init() {}
    }

    /// The outcome of ``claim(_:inputOffset:atMilliseconds:)``.
    public enum Claim: Equatable, Sendable {
        /// First time: emit.
        case first
        /// The record that claimed the key runs again: emit the same output again.
        case sameRecord
        /// Another record already emitted for this key: emit nothing.
        case duplicate
    }

    private struct Entry {
        /// The input offset that claimed the key in this process; `nil` once known to be emitted.
        var claimingOffset: Int64?
        var timestampMilliseconds: Int64
        /// Which insertion of the key this is: a released key claimed again is a new insertion, and
        /// its old place in `order` must not evict it.
        var insertion: Int
    }

    public let limits: Limits
    private var entries: [String: Entry] = [:]
    /// Keys in insertion order; `orderStart` skips the evicted prefix until it is compacted.
    private var order: [(key: String, insertion: Int)] = []
    private var insertions = 0
    private var orderStart = 0
    private var newestMilliseconds = Int64.min

    public init(limits: Limits = Limits()) {
        precondition(limits.maxEntries > 0, "maxEntries must be positive")
        precondition(limits.horizon > .zero, "horizon must be positive")
        self.limits = limits
    }

    public var count: Int { entries.count }

    public func contains(_ key: String) -> Bool { entries[key] != nil }

    /// What ``claim(_:inputOffset:atMilliseconds:)`` would answer, without claiming: lets a worker
    /// skip a costly call for a duplicate yet claim only once the call has succeeded.
    public func peek(_ key: String, inputOffset: Int64) -> Claim {
        guard let entry = entries[key] else { return .first }
        return entry.claimingOffset == inputOffset ? .sameRecord : .duplicate
    }

    /// Claims `key` for the record at `inputOffset`.
    public mutating func claim(_ key: String, inputOffset: Int64, atMilliseconds now: Int64) -> Claim {
        let claim = peek(key, inputOffset: inputOffset)
        if claim == .first {
            insert(key, claimingOffset: inputOffset, timestampMilliseconds: now)
        }
        return claim
    }

    /// Forgets the claim the record at `inputOffset` made on `key`, because that record was
    /// dead-lettered and its output never written: a later record with the key (such as the
    /// redriven dead letter, at a new offset) must act again.
    ///
    /// A claim made by another record, or a key known to be emitted (rebuilt from the output), stays.
    ///
    /// - Returns: Whether a claim was released.
    @discardableResult
    public mutating func release(_ key: String, inputOffset: Int64) -> Bool {
        guard let entry = entries[key], entry.claimingOffset == inputOffset else { return false }
        // `order` keeps the key; eviction skips places whose insertion is gone.
        entries[key] = nil
        return true
    }

    /// Remembers a key found in the worker's own output (rebuilding after an assignment).
    ///
    /// A key already beyond the horizon is not kept: a rebuild reads one output topic after another, and an old
    /// key of a later topic would otherwise wait behind the recent keys of an earlier one until they expire.
    public mutating func recordEmitted(_ key: String, atMilliseconds timestamp: Int64) {
        if entries[key] != nil {
            entries[key]?.claimingOffset = nil
            return
        }
        guard newestMilliseconds == .min || timestamp >= newestMilliseconds - horizonMilliseconds else { return }
        insert(key, claimingOffset: nil, timestampMilliseconds: timestamp)
    }

    private var horizonMilliseconds: Int64 {
        limits.horizon.components.seconds * 1000 + limits.horizon.components.attoseconds / 1_000_000_000_000_000
    }

    private mutating func insert(_ key: String, claimingOffset: Int64?, timestampMilliseconds: Int64) {
        insertions += 1
        entries[key] = Entry(claimingOffset: claimingOffset, timestampMilliseconds: timestampMilliseconds, insertion: insertions)
        order.append((key, insertions))
        newestMilliseconds = max(newestMilliseconds, timestampMilliseconds)
        evict()
    }

    private mutating func evict() {
        let oldestKept = newestMilliseconds - horizonMilliseconds
        while orderStart < order.count {
            let (key, insertion) = order[orderStart]
            guard let entry = entries[key], entry.insertion == insertion else {
                orderStart += 1
                continue
            }
            guard entries.count > limits.maxEntries || entry.timestampMilliseconds < oldestKept else { break }
            entries[key] = nil
            orderStart += 1
        }
        // Compact once the dead prefix is at least half the array, so appends stay amortised O(1).
        if orderStart > 0 && orderStart * 2 >= order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
    }
}
