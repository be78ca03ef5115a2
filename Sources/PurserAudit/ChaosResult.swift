import Foundation

/// One chaos scenario's outcome: the audit after it and how the pipeline coped.
public struct ChaosResult: Sendable, Codable {
    public var scenario: String
    public var webhooksSent: Int
    public var confirmed: Int
    public var blocked: Int
    public var credited: Int
    public var held: Int
    public var lost: Int
    public var duplicated: Int
    public var unexpected: Int
    public var deadLettered: Int
    public var maxLag: Int
    /// From the end of the fault until everything confirmed was credited or held; `nil`: never.
    public var recoverySeconds: Double?
    public var notes: [String]
    public var problems: [String]
    /// The folder of the processes' logs (removed after a passing run).
    public var logs: String

    public init(
        scenario: String,
        webhooksSent: Int,
        audit: DepositAudit,
        maxLag: Int,
        recoverySeconds: Double?,
        notes: [String],
        problems: [String],
        logs: String
    ) {
        self.scenario = scenario
        self.webhooksSent = webhooksSent
        confirmed = audit.confirmed
        blocked = audit.blocked
        credited = audit.credited
        held = audit.held
        lost = audit.lost
        duplicated = audit.duplicated
        unexpected = audit.unexpected
        deadLettered = audit.deadLettered
        self.maxLag = maxLag
        self.recoverySeconds = recoverySeconds
        self.notes = notes
        self.problems = problems
        self.logs = logs
    }

    /// Nothing lost, doubled or made up, the pipeline settled, and no other problem.
    public var passed: Bool {
        problems.isEmpty && recoverySeconds != nil && lost == 0 && duplicated == 0 && unexpected == 0 && deadLettered == 0
            && confirmed > 0
    }

    public static let header = columns(["scenario", "webhooks sent", "credited", "held", "lost", "duplicated", "max lag", "recovery", "audit"])

    public var row: String {
        Self.columns([
            scenario, "\(webhooksSent)", "\(credited)", "\(held)", "\(lost)", "\(duplicated)", "\(maxLag)",
            recoverySeconds.map { String(format: "%.1f s", $0) } ?? "never", passed ? "ok" : "FAILED",
        ])
    }

    /// The first column left-aligned, the others right-aligned, in fixed widths.
    private static func columns(_ values: [String]) -> String {
        let widths = [16, 13, 9, 6, 5, 10, 8, 9, 6]
        return zip(values, widths).enumerated().map { index, column in
            let padding = String(repeating: " ", count: max(column.1 - column.0.count, 0))
            return index == 0 ? column.0 + padding : padding + column.0
        }.joined(separator: " ")
    }
}
