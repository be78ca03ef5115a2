import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// Something whose readiness `/health/ready` reports, such as a worker that has joined its group.
public protocol ReadinessReporting: Sendable {
    /// `true` once the component can do its work; `false` while starting or stopping.
    var isReady: Bool { get }
}

/// Serves `/metrics` (Prometheus text), `/health/live` and `/health/ready` on `METRICS_PORT`.
///
/// `/health/live` answers 200 while the process runs. `/health/ready` answers 200 when every component
/// reports ready and 503 otherwise, so a deployment only routes to, and counts, instances that consume.
public struct HealthServer: Service {
    private let application: Application<RouterResponder<BasicRequestContext>>

    /// - Parameters:
    ///   - host: Address to bind; `0.0.0.0` in a container, `127.0.0.1` in tests.
    ///   - port: Port to bind; 0 picks a free port, reported to `onServerRunning`.
    ///   - registry: Where the process's metrics are collected.
    ///   - components: What `/health/ready` checks.
    ///   - onServerRunning: Called with the bound port once the server listens.
    public init(
        host: String = "0.0.0.0",
        port: Int,
        registry: PrometheusCollectorRegistry,
        components: [any ReadinessReporting],
        logger: Logger,
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
        router.get("/health/live") { _, _ in HTTPResponse.Status.ok }
        router.get("/health/ready") { _, _ in
            components.allSatisfy(\.isReady) ? HTTPResponse.Status.ok : .serviceUnavailable
        }
        application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    public func run() async throws {
        try await application.runService()
    }
}
