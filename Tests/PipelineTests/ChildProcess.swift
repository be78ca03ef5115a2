import Foundation
import PurserTesting

/// A built executable of this package run as a child process, its standard output (and on request its
/// standard error) kept line by line.
final class ChildProcess: @unchecked Sendable {
    // @unchecked: `Process` is not Sendable; it is only touched from the test that owns this value, and
    // the output lines are guarded by `lock`.
    private let process = Process()
    private let lock = NSLock()
    private var lines: [String] = []
    private var partialLine = ""

    /// The package's built executable `name`, next to the test bundle; `nil` when it is not built.
    static func executable(_ name: String) -> URL? {
        let bundleDirectory = Bundle.main.bundleURL.deletingLastPathComponent()
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [
            bundleDirectory.appendingPathComponent(name),
            Bundle.main.bundleURL.appendingPathComponent(name),
            packageRoot.appendingPathComponent(".build/debug/\(name)"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// The package's root directory (for `topics/`).
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// - Parameter includingStandardError: Keep the log lines too (they go to standard error).
    init(
        _ executable: URL,
        arguments: [String] = [],
        environment: [String: String],
        includingStandardError: Bool = false
    ) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        if includingStandardError { process.standardError = output }
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            self?.append(handle.availableData)
        }
        try process.run()
    }

    private func append(_ data: Data) {
        guard !data.isEmpty else { return }
        lock.withLock {
            partialLine += String(decoding: data, as: UTF8.self)
            while let newline = partialLine.firstIndex(of: "\n") {
                lines.append(String(partialLine[..<newline]))
                partialLine = String(partialLine[partialLine.index(after: newline)...])
            }
        }
    }

    /// The first line written to standard output, waiting for it at most `timeout`.
    func firstLine(timeout: Duration = .seconds(30)) async throws -> String {
        try await KafkaTesting.eventually(timeout: timeout) { lock.withLock { !lines.isEmpty } }
        return lock.withLock { lines[0] }
    }

    /// The first line containing `text`, waiting for it at most `timeout`.
    func line(containing text: String, timeout: Duration = .seconds(30)) async throws -> String {
        func found() -> String? { lock.withLock { lines.first { $0.contains(text) } } }
        try await KafkaTesting.eventually(timeout: timeout) { found() != nil }
        return found()!
    }

    var processIdentifier: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits (bounded) for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await KafkaTesting.eventually(timeout: timeout) { !process.isRunning }
        return process.terminationStatus
    }

    /// Kills the process if it still runs (cleanup after a failed test).
    func killIfRunning() {
        if process.isRunning { signal(SIGKILL) }
    }
}
