import Foundation
import Logging
import Metrics
import Prometheus
import PurserRuntime
import PurserTesting
import ServiceLifecycle
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite(.timeLimit(.minutes(1)))
struct HealthServerTests {
    final class Switch: ReadinessReporting {
        let state = Atomic(false)
        var isReady: Bool { state.load(ordering: .relaxed) }
    }

    static func get(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test("live answers 200, ready follows every component, metrics are Prometheus text")
    func endpoints() async throws {
        let registry = PrometheusCollectorRegistry()
        Counter(label: "purser_worker_processed_total", dimensions: [("worker", "w")], factory: PrometheusMetricsFactory(registry: registry))
            .increment(by: 3)
        let worker = Switch()
        let table = Switch()
        table.state.store(true, ordering: .relaxed)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let server = HealthServer(
            host: "127.0.0.1",
            port: 0,
            registry: registry,
            components: [worker, table],
            logger: KafkaTesting.logger,
            onServerRunning: { portContinuation.yield($0) }
        )
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [], logger: KafkaTesting.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            #expect(port > 0)

            #expect(try await Self.get(port, "/health/live").status == 200)
            #expect(try await Self.get(port, "/health/ready").status == 503, "the worker is not ready yet")
            worker.state.store(true, ordering: .relaxed)
            #expect(try await Self.get(port, "/health/ready").status == 200)
            let metrics = try await Self.get(port, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.body.contains(#"purser_worker_processed_total{worker="w"} 3"#))

            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
