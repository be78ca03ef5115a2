import Foundation
import PurserAudit
import Testing

/// A short run of `purser-chaos`: the executables as separate processes, two faults, small volume. The
/// audit must hold, not merely the runner exit.
@Suite(.serialized, .timeLimit(.minutes(8)))
struct ChaosSmokeTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The built `purser-chaos`, next to the test bundle or in the debug build folder.
    static let runner: URL? = [
        Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("purser-chaos"),
        packageRoot.appendingPathComponent(".build/debug/purser-chaos"),
    ].first { FileManager.default.isExecutableFile(atPath: $0.path) }

    @Test(
        "replicas SIGKILLed, and 30 % duplicate and out-of-order webhooks: every confirmed deposit credited or held exactly once",
        .enabled(if: runner != nil, "purser-chaos is not built: run `swift build` (make test does)")
    )
    func killsAndDeliveryFaultsKeepTheLedger() async throws {
        let runner = try #require(Self.runner)
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("chaos-smoke-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: report) }
        let process = Process()
        process.executableURL = runner
        process.arguments = [
            "--scenario", "kill-replicas", "--scenario", "delivery-faults", "--rate", "10", "--seconds", "15",
            "--json", report.path,
        ]
        process.standardOutput = FileHandle.standardError
        try process.run()
        let deadline = ContinuousClock.now + .seconds(420)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        if process.isRunning {
            process.terminate()
            Issue.record("purser-chaos did not finish within 7 minutes")
            return
        }

        let results = try JSONDecoder().decode([ChaosResult].self, from: try Data(contentsOf: report))
        #expect(results.map(\.scenario) == ["kill-replicas", "delivery-faults"])
        for result in results {
            #expect(result.confirmed >= 100, "\(result.scenario): the traffic reached the ledger")
            #expect(result.blocked > 0, "\(result.scenario): some deposits belong to blocked customers")
            #expect(result.credited == result.confirmed - result.blocked, "\(result.scenario): every deposit to credit was credited")
            #expect(result.held == result.blocked, "\(result.scenario): every blocked customer's deposit was held")
            #expect(
                result.lost == 0 && result.duplicated == 0 && result.unexpected == 0 && result.deadLettered == 0,
                "\(result.scenario): \(result)"
            )
            #expect(result.recoverySeconds != nil, "\(result.scenario): the pipeline settled")
            #expect(result.problems.isEmpty, "\(result.scenario): \(result.problems)")
        }
        let kills = try #require(results.first { $0.scenario == "kill-replicas" }?.notes.first)
        #expect(kills.hasSuffix("replicas SIGKILLed and restarted") && !kills.hasPrefix("0 "), "replicas were killed: \(kills)")
        let faults = try #require(results.first { $0.scenario == "delivery-faults" }?.notes.first)
        #expect(!faults.hasPrefix("0 duplicate"), "duplicates were delivered: \(faults)")
        #expect(process.terminationStatus == 0, "the runner reports success")
    }

    @Test(
        "an interrupted runner takes its processes with it",
        .enabled(if: runner != nil, "purser-chaos is not built: run `swift build` (make test does)")
    )
    func interruptedRunnerKillsItsChildren() async throws {
        let runner = try #require(Self.runner)
        let process = Process()
        process.executableURL = runner
        process.arguments = ["--scenario", "delivery-faults", "--rate", "5", "--seconds", "120"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Ingest and two replicas of each of the four workers.
        var children: [pid_t] = []
        let deadline = ContinuousClock.now + .seconds(120)
        while children.count < 9, process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            children = Self.children(of: process.processIdentifier)
        }
        try #require(children.count == 9, "the runner started its processes")
        defer { for child in children { kill(child, SIGKILL) } }

        process.terminate()
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(process.terminationStatus == 128 + SIGTERM)
        try await Task.sleep(for: .milliseconds(500))
        #expect(children.filter(Self.isAlive).isEmpty, "children still running after the runner ended")
    }

    /// Processes whose parent is `parent`, from `/proc`.
    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter { stat(of: $0)?.parent == parent }
    }

    /// A process that exists and is not a zombie.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let state = stat(of: pid)?.state else { return false }
        return state != "Z" && state != "X"
    }

    /// State and parent from `/proc/<pid>/stat` ("pid (name) state ppid …"; the name may hold spaces).
    static func stat(of pid: pid_t) -> (state: Character, parent: pid_t)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let nameEnd = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: nameEnd)...].split(separator: " ")
        guard fields.count > 1, let state = fields[0].first, let parent = pid_t(fields[1]) else { return nil }
        return (state, parent)
    }
}
