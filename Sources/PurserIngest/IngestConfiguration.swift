import Calypso
import Foundation

/// What `purser-ingest` needs to know besides Kafka: where to listen, what to accept, where to spool.
public struct IngestConfiguration: Sendable {
    /// Address the HTTP server binds. Default: `0.0.0.0`.
    public var host = "0.0.0.0"
    /// HTTP port (`0` picks a free one). Default: `8080`.
    public var port = 8080
    /// Largest webhook body accepted, enforced while reading. Default: 256 KiB.
    public var maxBodyBytes = 256 * 1024
    /// The most `INGEST_MAX_BODY_BYTES` may be: a webhook, wrapped in its CloudEvent, must fit one Kafka record
    /// (librdkafka's `message.max.bytes`, 1,000,000 by default), or it would be spooled and never published.
    public static let maxBodyBytesLimit = 512 * 1024
    /// How long a direct publish may wait for the broker's acknowledgement before the webhook goes
    /// to the spool instead. Default: 2 s.
    public var publishTimeout: Duration = .seconds(2)
    /// Directory of the spool; `nil` disables it (a failed publish then answers 503).
    /// Default: `ingest-spool` in the working directory.
    public var spoolDirectory: String? = "ingest-spool"
    /// Bound on the spool's size on disk. Default: 1 GiB.
    public var spoolMaxBytes = 1 << 30
    /// `Retry-After` sent with a 503. Default: 30 s.
    public var retryAfterSeconds = 30
    /// The webhook key pairs accepted at once (more than one during a rotation).
    public var webhookKeyPairs: [CalypsoKeyPair]

    public init(webhookKeyPairs: [CalypsoKeyPair]) {
        self.webhookKeyPairs = webhookKeyPairs
    }

    /// Every variable ``init(environment:)`` reads, `…_FILE` variants included.
    public static let environmentVariables = [
        "INGEST_PORT", "INGEST_MAX_BODY_BYTES", "INGEST_PUBLISH_TIMEOUT", "INGEST_SPOOL_DIR", "INGEST_SPOOL_MAX_BYTES",
        "INGEST_RETRY_AFTER_SECONDS", "CALYPSO_WEBHOOK_KEY", "CALYPSO_WEBHOOK_KEY_FILE", "CALYPSO_WEBHOOK_SECRET",
        "CALYPSO_WEBHOOK_SECRET_FILE",
    ]

    /// Reads the configuration from environment variables; unset ones keep their defaults.
    ///
    /// - `INGEST_PORT`, `INGEST_MAX_BODY_BYTES`, `INGEST_SPOOL_MAX_BYTES` (`0` disables the spool),
    ///   `INGEST_RETRY_AFTER_SECONDS`: integers.
    /// - `INGEST_PUBLISH_TIMEOUT`: seconds, or a number with `ms` or `s` (`2`, `1500ms`, `0.5s`).
    /// - `INGEST_SPOOL_DIR`: a directory; empty disables the spool.
    /// - `CALYPSO_WEBHOOK_KEY`, `CALYPSO_WEBHOOK_SECRET` (or `…_FILE`, a file holding the value):
    ///   comma-separated lists paired in order. Required.
    /// - Throws: ``IngestConfigurationError`` naming the variable at fault (never its secret value).
    public init(environment: [String: String]) throws(IngestConfigurationError) {
        let keys = try Self.value(of: "CALYPSO_WEBHOOK_KEY", in: environment)
        let secrets = try Self.value(of: "CALYPSO_WEBHOOK_SECRET", in: environment)
        guard let keys, let secrets else {
            throw IngestConfigurationError(
                variable: keys == nil ? "CALYPSO_WEBHOOK_KEY" : "CALYPSO_WEBHOOK_SECRET",
                reason: "is required"
            )
        }
        do {
            self.init(webhookKeyPairs: try CalypsoKeyPair.pairs(keys: keys, secrets: secrets))
        } catch {
            throw IngestConfigurationError(variable: "CALYPSO_WEBHOOK_SECRET", reason: "\(error)")
        }
        port = try Self.integer("INGEST_PORT", in: environment, range: 0...65535) ?? port
        maxBodyBytes = try Self.integer("INGEST_MAX_BODY_BYTES", in: environment, range: 1...Self.maxBodyBytesLimit) ?? maxBodyBytes
        spoolMaxBytes = try Self.integer("INGEST_SPOOL_MAX_BYTES", in: environment, range: 0...Int.max) ?? spoolMaxBytes
        retryAfterSeconds =
            try Self.integer("INGEST_RETRY_AFTER_SECONDS", in: environment, range: 1...86400) ?? retryAfterSeconds
        if let timeout = environment["INGEST_PUBLISH_TIMEOUT"] {
            guard let duration = Self.duration(timeout), duration > .zero else {
                throw IngestConfigurationError(
                    variable: "INGEST_PUBLISH_TIMEOUT",
                    reason: "expected a positive duration such as 2, 2s or 1500ms, got \(timeout)"
                )
            }
            publishTimeout = duration
        }
        if let directory = environment["INGEST_SPOOL_DIR"] {
            spoolDirectory = directory.isEmpty ? nil : directory
        }
        if spoolMaxBytes == 0 { spoolDirectory = nil }
    }

    /// A variable's value, or the trimmed content of the file named by its `…_FILE` variant.
    private static func value(of variable: String, in environment: [String: String]) throws(IngestConfigurationError)
        -> String?
    {
        if let value = environment[variable], !value.isEmpty { return value }
        guard let path = environment[variable + "_FILE"], !path.isEmpty else { return nil }
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw IngestConfigurationError(variable: variable + "_FILE", reason: "cannot read \(path)")
        }
        return contents.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func integer(_ variable: String, in environment: [String: String], range: ClosedRange<Int>)
        throws(IngestConfigurationError) -> Int?
    {
        guard let text = environment[variable] else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw IngestConfigurationError(variable: variable, reason: "expected an integer in \(range), got \(text)")
        }
        return value
    }

    static func duration(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let (number, scale): (Substring, Double) =
            if trimmed.hasSuffix("ms") {
                (trimmed.dropLast(2), 0.001)
            } else if trimmed.hasSuffix("s") {
                (trimmed.dropLast(), 1)
            } else {
                (trimmed[...], 1)
            }
        // Beyond about 31,000 years the milliseconds would not fit an Int64.
        guard let value = Double(number), value.isFinite, value >= 0, value * scale * 1000 < 1e15 else { return nil }
        return .milliseconds(Int64((value * scale * 1000).rounded()))
    }
}

/// A configuration variable is missing or malformed. Names the variable, never a secret.
public struct IngestConfigurationError: Error, CustomStringConvertible {
    public var variable: String
    public var reason: String

    public var description: String { "\(variable) \(reason)" }
}
