import ServiceLifecycle

/// A client's first fatal error, and the one task (its service's `run()`) that waits for it.
final class FatalErrorSignal: Sendable {
    private struct State {
        var error: KafkaError?
        var waiter: CheckedContinuation<KafkaError?, Never>?
    }

    private let state = LockedState(State())

    var error: KafkaError? { state.withLock { $0.error } }

    /// Records the error unless one was recorded before, and wakes the waiter.
    func raise(_ error: KafkaError) {
        state.withLock { state in
            state.error = state.error ?? error
            return state.waiter.take()
        }?.resume(returning: error)
    }

    /// Waits until a fatal error is raised; `nil` when the waiting task is cancelled.
    func wait() async -> KafkaError? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> KafkaError?? in
                    if let error = state.error { return .some(error) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            state.withLock { $0.waiter.take() }?.resume(returning: nil)
        }
    }

    /// A client service's `run()`: waits for graceful shutdown or a fatal error, shuts the client
    /// down, and throws the fatal error if that is what ended it.
    func runUntilShutdown(shutdown: () async -> Void) async throws {
        let fatal = await withTaskGroup(of: KafkaError?.self) { group in
            group.addTask {
                try? await gracefulShutdown()
                return nil
            }
            group.addTask { await self.wait() }
            defer { group.cancelAll() }
            return await group.next()!
        }
        await shutdown()
        if let fatal { throw fatal }
    }
}
