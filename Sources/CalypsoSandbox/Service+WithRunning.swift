import Logging
import ServiceLifecycle

/// Runs `service` in its own `ServiceGroup`, waits for `ready`, runs `body`, then shuts the
/// service down gracefully (or cancels it when `ready` or `body` throws).
package func withRunningService<Result>(
    _ service: some Service,
    logger: Logger,
    ready: () async throws -> Void,
    _ body: () async throws -> Result
) async throws -> Result {
    let group = ServiceGroup(services: [service], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            try await ready()
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
            throw error
        }
    }
}
