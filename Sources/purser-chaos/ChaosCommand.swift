import ArgumentParser
import Calypso
import CalypsoSandbox
import Foundation
import Logging
import PurserAudit

/// `purser-chaos`: runs the pipeline's executables as separate processes under scripted faults and
/// audits each run against the sandbox ledger. Exits non-zero when any audit fails.
@main
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purser-chaos",
        abstract: "Run the pipeline under faults and audit that every confirmed deposit is credited (or held) exactly once."
    )

    @Option(name: .customLong("scenario"), help: "A scenario to run (repeatable): \(ChaosScenario.allCases.map(\.rawValue).joined(separator: ", ")). Default: all.")
    var scenarios: [String] = []

    @Option(help: "Deposits simulated per second.")
    var rate: Double = 20

    @Option(help: "Seconds of traffic per scenario.")
    var seconds: Double = 60

    @Option(help: "Seconds the broker stays down in broker-down.")
    var brokerDownSeconds: Double = 60

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Option(help: "Directory of the built executables. Default: this executable's directory.")
    var binaries: String?

    func run() async throws {
        ManagedProcess.killChildrenOnInterrupt()
        let chosen = try scenarios.isEmpty
            ? ChaosScenario.allCases
            : scenarios.map { name in
                guard let scenario = ChaosScenario(rawValue: name) else { throw ValidationError("unknown scenario \(name)") }
                return scenario
            }
        let directory = binaries.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let options = ChaosOptions(
            depositsPerSecond: rate,
            traffic: .seconds(seconds),
            brokerDown: .seconds(brokerDownSeconds),
            settleTimeout: .seconds(240)
        )
        var logger = Logger(label: "purser.chaos")
        // librdkafka reports every refused connection while the broker is down; the audit is what counts.
        logger.logLevel = .critical
        var results: [ChaosResult] = []
        print(ChaosResult.header)
        for scenario in chosen {
            let result = try await ChaosRun(scenario: scenario, options: options, binaries: directory, logger: logger).run()
            print(result.row)
            // A failed scenario's process logs stay for inspection.
            if result.passed { try? FileManager.default.removeItem(atPath: result.logs) }
            results.append(result)
        }
        for result in results where !result.notes.isEmpty || !result.problems.isEmpty {
            print("\(result.scenario): " + (result.notes + result.problems.map { "PROBLEM: \($0)" }).joined(separator: "; "))
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(results).write(to: URL(fileURLWithPath: json))
        }
        guard results.allSatisfy(\.passed) else { throw ExitCode.failure }
    }
}

/// Runs one scenario from a fresh broker, sandbox and set of processes, and audits it.
struct ChaosRun {
    let scenario: ChaosScenario
    let options: ChaosOptions
    let binaries: URL
    let logger: Logger

    func run() async throws -> ChaosResult {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("purser-chaos-\(scenario.rawValue)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try ChaosCluster.writeKafkaProperties(in: work)
        let kafka = try ChaosCluster.makeBroker(logger: logger)
        let ingestPort = try freeLoopbackPort()
        var configuration = SandboxConfiguration(account: ChaosCluster.account, apiCredentials: ChaosCluster.apiKeyPair)
        configuration.port = 0
        configuration.seed = 42
        configuration.webhookURL = "http://127.0.0.1:\(ingestPort)/webhooks/calypso"
        configuration.webhookKeyPair = ChaosCluster.webhookKeyPair
        // Retry gaps of 3 s and a 60 s blocking window: a restarting ingest is retried soon enough, and
        // the subscription is not blocked while ingest is briefly away.
        configuration.timeScale = 0.1
        configuration.reorderHold = .milliseconds(300)
        return try await CalypsoSandbox.withRunning(configuration, logger: logger) { sandbox in
            let baseURL = try await sandbox.baseURL()
            let cluster = try ChaosCluster(
                kafka: kafka,
                sandbox: sandbox,
                sandboxURL: baseURL,
                ingestPort: ingestPort,
                binaries: binaries,
                workDirectory: work,
                logger: logger
            )
            let calypso = CalypsoClient(
                configuration: .init(baseURL: baseURL, account: ChaosCluster.account, credentials: ChaosCluster.apiKeyPair),
                logger: logger
            )
            defer { Task { try? await calypso.shutdown() } }
            let customers = try await cluster.makeCustomers(40, blockedEvery: 10, calypso: calypso)
            do {
                try cluster.startAll()
                let sampler = Task { await cluster.sampleLag() }
                var notes: [String] = []
                var problems: [String] = []
                let faultEnded = try await scenario.drive(cluster, customers: customers, options: options, notes: &notes, problems: &problems)
                let settled = await cluster.waitUntilSettled(timeout: options.settleTimeout)
                sampler.cancel()
                await sampler.value
                // Every process was started again after each fault: one not running died on its own, and each
                // must drain and exit 0 on this last SIGTERM.
                let died = ChaosCluster.processNames.filter { cluster.process($0)?.isRunning != true }
                problems += died.map { "\($0) was not running at the end (it exited on its own)" }
                for (name, status) in await cluster.stopAll().sorted(by: { $0.key < $1.key }) where !died.contains(name) && status != 0 {
                    problems.append("\(name) did not exit cleanly on SIGTERM (\(status.map { "exit \($0)" } ?? "still running after 30 s"))")
                }
                // Read once everything settled: a duplicate counts when its original is delivered, and the
                // deliveries after the fault are answered too.
                let deliveries = try cluster.deliveries()
                if scenario == .deliveryFaults {
                    notes.append("\(deliveries.duplicates) duplicate and \(deliveries.reordered) reordered deliveries")
                    if deliveries.duplicates == 0 || deliveries.reordered == 0 { problems.append("the sandbox injected no duplicates or no reordering") }
                }
                if scenario == .brokerDown, deliveries.failed > 0 {
                    problems.append("ingest did not answer 200 to \(deliveries.failed) deliveries")
                }
                let missing = try await cluster.acknowledgedWebhooksMissing()
                if missing > 0 { problems.append("\(missing) webhooks ingest answered 200 are not on \(cluster.topics.webhooks)") }
                let audit = try await DepositAudit(ledger: sandbox.ledger(), published: cluster.published)
                return ChaosResult(
                    scenario: scenario.rawValue,
                    webhooksSent: try cluster.deliveries().attempts,
                    audit: audit,
                    maxLag: cluster.maxLag,
                    recoverySeconds: settled.map { max(($0 - faultEnded).seconds, 0) },
                    notes: notes,
                    problems: problems,
                    logs: work.path
                )
            } catch {
                await cluster.stopAll()
                throw error
            }
        }
    }
}

/// A loopback port free right now (bound, read, released), for a process that must know its port in advance.
func freeLoopbackPort() throws -> Int {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw ChaosError("socket() failed") }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard bound else { throw ChaosError("cannot bind a loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
