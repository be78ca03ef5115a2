import AsyncHTTPClient
import Foundation
import Glibc
import Logging
import PurserKafka
import PurserRuntime
import ServiceLifecycle
import Synchronization
import Testing

@testable import PurserCLI

private let topicsFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("topics").path

/// Every server on a free port; nothing else from the process's environment.
private let freePorts = EnvironmentReader(["INGEST_PORT": "0", "SANDBOX_PORT": "0", "METRICS_PORT": "0"])

/// What the pipeline printed, line by line.
private final class Printed: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
    func count(startingWith prefix: String) -> Int { all.filter { $0.hasPrefix(prefix) }.count }
}

private func quietLogger() -> Logger {
    var logger = Logger(label: "purser.run.test")
    logger.logLevel = .critical
    return logger
}

/// The status of `GET url`, or the error when nothing answers.
private func status(of url: String) async throws -> UInt {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
    _ = try await response.body.collect(upTo: 1 << 20)
    return response.status.code
}

/// Whether something accepts TCP connections on 127.0.0.1:`port` (a refused connect answers at once).
private func acceptsConnections(port: Int) -> Bool {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { return false }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

@Suite(.serialized) struct RunCommandTests {
    @Test func theDemoFlagsAreChecked() throws {
        #expect(throws: (any Error).self) { try RunCommand.parse(["--exit-after-demo"]) }
        #expect(throws: (any Error).self) { try RunCommand.parse(["--demo", "--demo-timeout", "0"]) }
        let demo = try #require(
            try RunCommand.parse(["--demo", "--exit-after-demo", "--demo-timeout", "5"]).pipelineOptions().demo
        )
        #expect(demo.timeout == .seconds(5))
        #expect(demo.exitsAfterSummary)
        #expect(try RunCommand.parse([]).pipelineOptions().demo == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func waitingForEventsThatNeverComeEndsWithTheirNames() async throws {
        let kafka = try EmbeddedKafka(logger: quietLogger())
        try kafka.createTopic("deposits.credited.v1", partitions: 2)
        let settings = PublicEventReader.Settings(
            brokers: kafka.brokers,
            kafkaProperties: [:],
            topics: [("deposits.credited.v1", 2)],
            output: { _ in }
        )
        var reader = try await PublicEventReader(settings: settings, logger: quietLogger())
        let missing = RunDemo.Expectation(topic: "deposits.credited.v1", subjectKey: "tx-that-never-happened")
        await #expect {
            try await reader.wait(for: [missing], until: .now + .milliseconds(500))
        } throws: { error in
            "\(error)" == "timed out waiting for 1 event(s): deposits.credited.v1 for tx-that-never-happened"
        }
        await reader.close()
    }

    @Test(.timeLimit(.minutes(3)))
    func theDemoPrintsEveryKindOfPublicEventAndEnds() async throws {
        let command = try RunCommand.parse([
            "--demo", "--exit-after-demo", "--demo-timeout", "90", "--topics-dir", topicsFolder,
        ])
        let printed = Printed()
        let pipeline = LocalPipeline(
            options: command.pipelineOptions(),
            environment: freePorts,
            logger: quietLogger(),
            output: printed.append
        )
        // Ends on its own after the summary; an error here is the demo's one-line reason.
        let group = ServiceGroupConfiguration(
            services: [.init(service: pipeline, successTerminationBehavior: .gracefullyShutdownGroup)],
            logger: quietLogger()
        )
        try await ServiceGroup(configuration: group).run()

        let lines = printed.all
        #expect(printed.count(startingWith: "deposits.credited.v1") == 3, "\(lines)")
        #expect(printed.count(startingWith: "deposits.held.v1") == 1, "\(lines)")
        #expect(printed.count(startingWith: "deposits.declined.v1") == 1, "\(lines)")
        #expect(printed.count(startingWith: "purses.renewed.v1") == 1, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("deposits.credited.v1") && $0.contains("0.123456789012345678 ETH") })
        #expect(
            lines.contains {
                $0.hasPrefix("deposits.held.v1") && $0.contains("carol") && $0.contains("customer_blocked")
            }
        )
        #expect(lines.contains { $0.hasPrefix("deposits.declined.v1") && $0.contains("99.99 ETH") })
        #expect(
            lines.contains(
                "summary: 3 on deposits.credited.v1, 1 on deposits.held.v1, 1 on deposits.declined.v1, 1 on purses.renewed.v1"
            )
        )
        #expect(
            lines.contains {
                $0.hasPrefix("summary: alice's 125.50 USDT_TRX deposit: ")
                    && $0.hasSuffix("webhooks delivered twice, credited once")
            }
        )
    }

    @Test(.timeLimit(.minutes(2)))
    func gracefulShutdownStopsEveryService() async throws {
        let command = try RunCommand.parse(["--topics-dir", topicsFolder])
        let endpoints = Mutex<LocalPipeline.Endpoints?>(nil)
        var pipeline = LocalPipeline(
            options: command.pipelineOptions(),
            environment: freePorts,
            logger: quietLogger(),
            output: { _ in }
        )
        pipeline.onRunning = { running in endpoints.withLock { $0 = running } }
        let group = ServiceGroup(services: [pipeline], logger: quietLogger())

        let running = try await withThrowingTaskGroup(of: LocalPipeline.Endpoints?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            let deadline = ContinuousClock.now + .seconds(60)
            var running: LocalPipeline.Endpoints?
            while running == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                running = endpoints.withLock { $0 }
            }
            let started = try #require(running, "the pipeline did not report its endpoints within 60 s")
            let ingest = started.ingestURL.replacingOccurrences(of: "/webhooks/calypso", with: "")
            #expect(try await status(of: ingest + "/health/live") == 200)
            #expect(try await status(of: started.calypsoURL + "/sandbox/faults") == 200)
            if let metrics = started.workerMetricsURL {
                #expect(try await status(of: metrics) == 200)
            }

            for url in [started.ingestURL, started.calypsoURL] + (started.workerMetricsURL.map { [$0] } ?? []) {
                #expect(acceptsConnections(port: try #require(URL(string: url)?.port)), "\(url)")
            }

            await group.triggerGracefulShutdown()
            // The group ends without error once every service stopped.
            while let result = try await tasks.next() { #expect(result == nil) }
            return started
        }

        for url in [running.ingestURL, running.calypsoURL] + (running.workerMetricsURL.map { [$0] } ?? []) {
            let port = try #require(URL(string: url)?.port)
            #expect(!acceptsConnections(port: port), "\(url) still accepts connections")
        }
    }
}
