import Synchronization

/// Keeps sends and transaction commits apart: any number of records may publish into the open
/// transaction at once, but a commit waits until they are done and holds new ones back until it is over.
///
/// That is what makes a commit safe: the offsets it sends cover only records whose outputs were published
/// before it started, so outputs and the offsets that consume their inputs always commit together (or the
/// outputs commit first, which only means a record may be processed again).
final class TransactionGate: Sendable {
    private struct State {
        var activeSends = 0
        var isCommitting = false
        var waitingSends: [CheckedContinuation<Void, Never>] = []
        var waitingCommits: [CheckedContinuation<Void, Never>] = []
        var commitDrained: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Runs `body` as one send into the open transaction.
    func withSend<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        await enterSend()
        defer { leaveSend() }
        return try await body()
    }

    /// Runs `body` alone: no send runs during it, and no other commit.
    func withCommit<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        await enterCommit()
        defer { leaveCommit() }
        return try await body()
    }

    private func enterSend() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let mayEnter = state.withLock { state in
                guard !state.isCommitting else {
                    state.waitingSends.append(continuation)
                    return false
                }
                state.activeSends += 1
                return true
            }
            if mayEnter { continuation.resume() }
        }
    }

    private func leaveSend() {
        let drained = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.activeSends -= 1
            return state.activeSends == 0 ? state.commitDrained.take() : nil
        }
        drained?.resume()
    }

    private func enterCommit() async {
        // First wait for the gate to be free of other commits, then for running sends to end.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let mayEnter = state.withLock { state in
                guard !state.isCommitting else {
                    state.waitingCommits.append(continuation)
                    return false
                }
                state.isCommitting = true
                return true
            }
            if mayEnter { continuation.resume() }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isDrained = state.withLock { state in
                guard state.activeSends > 0 else { return true }
                state.commitDrained = continuation
                return false
            }
            if isDrained { continuation.resume() }
        }
    }

    private func leaveCommit() {
        let (nextCommit, sends) = state.withLock { state -> (CheckedContinuation<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            if !state.waitingCommits.isEmpty {
                // Hand the gate straight to the next commit; sends keep waiting.
                return (state.waitingCommits.removeFirst(), [])
            }
            state.isCommitting = false
            let sends = state.waitingSends
            state.waitingSends = []
            state.activeSends += sends.count
            return (nil, sends)
        }
        nextCommit?.resume()
        for send in sends { send.resume() }
    }
}
