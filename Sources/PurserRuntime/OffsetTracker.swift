/// Which offsets of one partition have been received and finished, and so which offset may be committed.
///
/// The committable offset is the first received offset that has not finished (or, when all have, the one
/// after the last received): committing it never passes an unfinished record, whatever order records
/// finish in.
struct OffsetTracker {
    private var pending = FIFO<Int64>()
    private var finished: Set<Int64> = []
    /// The offset after the last record received; `nil` before the first.
    private(set) var nextOffset: Int64?

    /// Records received and not yet finished.
    var unfinishedCount: Int { pending.count - finished.count }

    /// The offset to commit: every record before it has finished. `nil` until a record is received.
    var committableOffset: Int64? { pending.first ?? nextOffset }

    /// Notes a received record. Offsets must increase; an offset at or below one already received is
    /// rejected (`false`) so a re-delivered record is not tracked twice.
    mutating func receive(_ offset: Int64) -> Bool {
        if let nextOffset, offset < nextOffset { return false }
        pending.append(offset)
        nextOffset = offset + 1
        return true
    }

    /// Notes a finished record and advances the committable offset past every finished prefix.
    mutating func finish(_ offset: Int64) {
        guard let first = pending.first, let nextOffset, offset >= first, offset < nextOffset else { return }
        finished.insert(offset)
        while let first = pending.first, finished.remove(first) != nil {
            _ = pending.popFirst()
        }
    }
}
