import Logging
import ServiceLifecycle

/// Services that can only be made once others run, because they need something known only then
/// (typically a port a server picked): waits for ``make``, then runs what it returns as a nested
/// `ServiceGroup`. The nested group follows this service's graceful shutdown, stopping its services
/// in reverse order, and ends when one of them ends (see each one's termination behaviour).
struct DeferredServices: Service {
    let make: @Sendable () async throws -> [ServiceGroupConfiguration.ServiceConfiguration]
    let logger: Logger

    func run() async throws {
        let services: [ServiceGroupConfiguration.ServiceConfiguration]
        do {
            services = try await cancelWhenGracefulShutdown(make)
        } catch is CancellationError where Task.isShuttingDownGracefully {
            return
        }
        try await ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger)).run()
    }
}

extension DeferredServices: CustomStringConvertible {
    var description: String { "DeferredServices" }
}

/// A value one task learns and another waits for, such as the port a server bound.
final class Handoff<Value: Sendable>: Sendable {
    private let stream: AsyncStream<Value>
    private let continuation: AsyncStream<Value>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func send(_ value: Value) {
        continuation.yield(value)
        continuation.finish()
    }

    /// The value, once sent. Only one task may wait.
    /// - Throws: `CancellationError` when the task is cancelled first.
    func value() async throws -> Value {
        for await value in stream { return value }
        throw CancellationError()
    }
}
