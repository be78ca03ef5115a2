import Foundation
import Synchronization

/// One of the pipeline's executables run as a child process, its output appended to a log file.
final class ManagedProcess: @unchecked Sendable {
    /// Children that may still run, killed when the runner is interrupted (see ``killChildrenOnInterrupt()``).
    private static let running = Mutex<Set<pid_t>>([])

    /// On SIGINT or SIGTERM (Ctrl-C, or a caller's timeout), SIGKILLs every child still running, then exits:
    /// the runner's children must not outlive it, holding ports and burning the cores.
    static func killChildrenOnInterrupt() {
        for signalNumber in [SIGINT, SIGTERM] {
            Glibc.signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                for pid in running.withLock({ $0 }) { kill(pid, SIGKILL) }
                exit(128 + signalNumber)
            }
            source.resume()
            interruptSources.append(source)
        }
    }

    /// Keeps the signal sources alive; written once, at start-up, before any child runs.
    nonisolated(unsafe) private static var interruptSources: [any DispatchSourceSignal] = []

    // @unchecked: `Process` is not Sendable; a value is created, signalled and awaited by the one
    // scenario task that owns it, never concurrently.
    let name: String
    private let process = Process()

    /// Starts `executable` with `environment` added to this process's own.
    init(name: String, executable: URL, environment: [String: String], log: URL) throws {
        self.name = name
        process.executableURL = executable
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let output = try FileHandle(forWritingTo: log)
        output.seekToEndOfFile()
        process.standardOutput = output
        process.standardError = output
        process.terminationHandler = { ended in _ = Self.running.withLock { $0.remove(ended.processIdentifier) } }
        try Self.running.withLock { running in
            try process.run()
            running.insert(process.processIdentifier)
        }
    }

    var isRunning: Bool { process.isRunning }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the process to end, at most `timeout`; returns its exit status, `nil` if it still runs.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    /// SIGTERM, then SIGKILL if the process has not ended after `grace`; returns the SIGTERM exit status
    /// (`nil` when it had to be killed).
    @discardableResult
    func stop(grace: Duration = .seconds(30)) async -> Int32? {
        signal(SIGTERM)
        if let status = await waitForExit(timeout: grace) { return status }
        signal(SIGKILL)
        _ = await waitForExit(timeout: .seconds(10))
        return nil
    }
}
