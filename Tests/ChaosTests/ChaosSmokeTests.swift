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
}
