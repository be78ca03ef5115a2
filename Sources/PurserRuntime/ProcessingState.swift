import Dispatch
import Synchronization

/// The shared, lock-protected side of a running worker: the ``KeyOrderedScheduler`` plus who is waiting
/// on it (records sleeping before a retry, revokes waiting for running records to finish).
///
/// Every method takes the lock briefly and returns what the caller must do; nothing waits under the lock.
final class ProcessingState: Sendable {
    private struct State {
        var scheduler: KeyOrderedScheduler
        var nextWaiterID = 0
        /// Records sleeping before a retry, by partition, so a revoke or shutdown can wake them.
        var sleepers: [TopicPartition: [Int: CheckedContinuation<Void, any Error>]] = [:]
        /// Partitions whose retries must stop (revoked, or all of them at shutdown).
        var stopped: Set<TopicPartition> = []
        /// Revokes waiting for the running records of their partitions to finish.
        var drainWaiters: [Int: (partitions: [TopicPartition], signal: @Sendable () -> Void)] = [:]
    }

    private let state: Mutex<State>

    init(maxInFlight: Int) {
        state = Mutex(State(scheduler: KeyOrderedScheduler(maxInFlight: maxInFlight)))
    }

    var held: Int { state.withLock { $0.scheduler.held } }
    var isIntakePaused: Bool { state.withLock { $0.scheduler.isIntakePaused } }
    var assignedPartitions: [TopicPartition] { state.withLock { $0.scheduler.assignedPartitions } }
    var committableOffsets: [TopicPartition: Int64] { state.withLock { $0.scheduler.committableOffsets() } }
    /// Per assigned partition, the first offset not finished (the next to commit).
    var positions: [TopicPartition: Int64] { state.withLock { $0.scheduler.positions() } }

    func assign(_ partitions: [TopicPartition]) {
        state.withLock { state in
            state.scheduler.assign(partitions)
            state.stopped.subtract(partitions)
        }
    }

    /// See ``KeyOrderedScheduler/isCurrent(_:)``.
    func isCurrent(_ record: InputRecord) -> Bool {
        state.withLock { $0.scheduler.isCurrent(record) }
    }

    /// Takes a consumed record if `isCurrent` (asked under the lock, so no revoke of the record's partition can
    /// come between the question and the record's arrival in the scheduler).
    func receive(_ record: InputRecord, ifCurrent isCurrent: () -> Bool = { true }) -> KeyOrderedScheduler.Actions {
        state.withLock { state in
            guard isCurrent() else { return KeyOrderedScheduler.Actions() }
            return state.scheduler.receive(record)
        }
    }

    /// Settles a started record: `finished` when its outcome is published, otherwise abandoned.
    func settle(_ record: InputRecord, finished: Bool) -> KeyOrderedScheduler.Actions {
        let (actions, signals) = state.withLock { state in
            let actions = finished ? state.scheduler.finish(record) : state.scheduler.abandon(record)
            let drained = state.drainWaiters.filter { state.scheduler.runningCount(in: $0.value.partitions) == 0 }
            for id in drained.keys { state.drainWaiters[id] = nil }
            return (actions, drained.values.map(\.signal))
        }
        for signal in signals { signal() }
        return actions
    }

    func markCommitted(_ offsets: [TopicPartition: Int64]) {
        state.withLock { $0.scheduler.markCommitted(offsets) }
    }

    /// Stops work on `partitions`: records not started are dropped and sleeping retries are woken to give
    /// up. Running records go on; wait for them with ``waitUntilDrained(_:timeout:)``.
    func beginRevoke(_ partitions: [TopicPartition]) -> KeyOrderedScheduler.Actions {
        let (actions, sleepers) = state.withLock { state in
            state.stopped.formUnion(partitions)
            let sleepers = partitions.flatMap { state.sleepers.removeValue(forKey: $0)?.values ?? [:].values }
            return (state.scheduler.beginRevoke(partitions), sleepers)
        }
        for sleeper in sleepers { sleeper.resume(throwing: CancellationError()) }
        return actions
    }

    /// Blocks the calling thread (librdkafka's, during a rebalance) until no record of `partitions` runs,
    /// or `timeout` passes.
    ///
    /// - Returns: `false` on timeout.
    func waitUntilDrained(_ partitions: [TopicPartition], timeout: Duration) -> Bool {
        let semaphore = DispatchSemaphore(value: 0)
        let signal: @Sendable () -> Void = { semaphore.signal() }
        let id: Int? = state.withLock { state in
            guard state.scheduler.runningCount(in: partitions) > 0 else { return nil }
            state.nextWaiterID += 1
            state.drainWaiters[state.nextWaiterID] = (partitions, signal)
            return state.nextWaiterID
        }
        guard let id else { return true }
        let milliseconds = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        if semaphore.wait(timeout: .now() + .milliseconds(milliseconds)) == .success { return true }
        state.withLock { _ = $0.drainWaiters.removeValue(forKey: id) }
        return false
    }

    /// Waits until no record of `partitions` runs, or the task is cancelled.
    func drained(_ partitions: [TopicPartition]) async {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let once = Mutex<CheckedContinuation<Void, Never>?>(continuation)
                let signal: @Sendable () -> Void = { once.withLock { $0.take() }?.resume() }
                let isDone = state.withLock { state in
                    guard state.scheduler.runningCount(in: partitions) > 0, !Task.isCancelled else { return true }
                    state.drainWaiters[id] = (partitions, signal)
                    return false
                }
                if isDone { signal() }
            }
        } onCancel: {
            state.withLock { $0.drainWaiters.removeValue(forKey: id) }?.signal()
        }
    }

    /// Forgets `partitions` and returns their final committable offsets.
    func completeRevoke(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        state.withLock { $0.scheduler.completeRevoke(partitions) }
    }

    /// Sleeps on `clock` until `deadline`, unless `partition` is revoked (or the worker stops) first.
    ///
    /// - Throws: `CancellationError` when woken early or when the task is cancelled.
    func sleep<C: Clock<Duration>>(on clock: C, until deadline: C.Instant, partition: TopicPartition) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await clock.sleep(until: deadline, tolerance: nil) }
            group.addTask { try await self.waitUntilStopped(partition) }
            defer { group.cancelAll() }
            try await group.next()
        }
        if state.withLock({ $0.stopped.contains(partition) }) { throw CancellationError() }
    }

    private func waitUntilStopped(_ partition: TopicPartition) async throws {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let isStopped = state.withLock { state in
                    if state.stopped.contains(partition) || Task.isCancelled { return true }
                    state.sleepers[partition, default: [:]][id] = continuation
                    return false
                }
                if isStopped { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let continuation = state.withLock { $0.sleepers[partition]?.removeValue(forKey: id) }
            continuation?.resume(throwing: CancellationError())
        }
    }
}

/// A clock whose sleeps end early, with `CancellationError`, when the sleeping record's partition is
/// revoked or the worker stops: the record is abandoned (not committed) and processed again later,
/// instead of holding a rebalance or a shutdown back for the length of its backoff.
struct RevocableClock<Base: Clock<Duration>>: Clock {
    let base: Base
    let partition: TopicPartition
    let state: ProcessingState

    var now: Base.Instant { base.now }
    var minimumResolution: Duration { base.minimumResolution }

    func sleep(until deadline: Base.Instant, tolerance: Duration?) async throws {
        try await state.sleep(on: base, until: deadline, partition: partition)
    }
}
