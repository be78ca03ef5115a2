import Foundation
import Testing

@testable import PurserIngest

@Suite("Ingest configuration")
struct IngestConfigurationTests {
    private let keys = ["CALYPSO_WEBHOOK_KEY": "k1,k2", "CALYPSO_WEBHOOK_SECRET": "s1, s2"]

    @Test("defaults apply when only the key pairs are given")
    func defaults() throws {
        let configuration = try IngestConfiguration(environment: keys)
        #expect(configuration.port == 8080)
        #expect(configuration.maxBodyBytes == 256 * 1024)
        #expect(configuration.publishTimeout == .seconds(2))
        #expect(configuration.spoolDirectory != nil)
        #expect(configuration.webhookKeyPairs.map(\.key) == ["k1", "k2"])
        #expect(configuration.webhookKeyPairs.map(\.secret) == ["s1", "s2"])
    }

    @Test("every variable is read")
    func variables() throws {
        let configuration = try IngestConfiguration(
            environment: keys.merging([
                "INGEST_PORT": "9999",
                "INGEST_MAX_BODY_BYTES": "1024",
                "INGEST_PUBLISH_TIMEOUT": "1500ms",
                "INGEST_SPOOL_DIR": "/tmp/spool-x",
                "INGEST_SPOOL_MAX_BYTES": "4096",
                "INGEST_RETRY_AFTER_SECONDS": "7",
            ]) { $1 }
        )
        #expect(configuration.port == 9999)
        #expect(configuration.maxBodyBytes == 1024)
        #expect(configuration.publishTimeout == .milliseconds(1500))
        #expect(configuration.spoolDirectory == "/tmp/spool-x")
        #expect(configuration.spoolMaxBytes == 4096)
        #expect(configuration.retryAfterSeconds == 7)
    }

    @Test(
        "publish timeouts in seconds or milliseconds",
        arguments: [
            ("2", Duration.seconds(2)), ("0.5s", .milliseconds(500)), ("250ms", .milliseconds(250)),
        ]
    )
    func timeouts(text: String, expected: Duration) {
        #expect(IngestConfiguration.duration(text) == expected)
    }

    @Test("an empty spool directory or a zero bound disables the spool")
    func spoolDisabled() throws {
        #expect(
            try IngestConfiguration(environment: keys.merging(["INGEST_SPOOL_DIR": ""]) { $1 }).spoolDirectory == nil
        )
        #expect(
            try IngestConfiguration(environment: keys.merging(["INGEST_SPOOL_MAX_BYTES": "0"]) { $1 }).spoolDirectory
                == nil
        )
    }

    @Test("secrets can come from files")
    func secretFiles() throws {
        let directory = try TemporaryDirectory()
        let secretFile = directory.url.appendingPathComponent("secret")
        try "s1,s2\n".write(to: secretFile, atomically: true, encoding: .utf8)
        let configuration = try IngestConfiguration(environment: [
            "CALYPSO_WEBHOOK_KEY": "k1,k2", "CALYPSO_WEBHOOK_SECRET_FILE": secretFile.path,
        ])
        #expect(configuration.webhookKeyPairs.map(\.secret) == ["s1", "s2"])
    }

    @Test(
        "errors name the variable and never a secret",
        arguments: [
            (["CALYPSO_WEBHOOK_KEY": "k1"], "CALYPSO_WEBHOOK_SECRET"),
            (["CALYPSO_WEBHOOK_KEY": "k1,k2", "CALYPSO_WEBHOOK_SECRET": "topsecret"], "CALYPSO_WEBHOOK_SECRET"),
            (
                ["CALYPSO_WEBHOOK_KEY": "k1", "CALYPSO_WEBHOOK_SECRET": "topsecret", "INGEST_PORT": "http"],
                "INGEST_PORT"
            ),
            (
                ["CALYPSO_WEBHOOK_KEY": "k1", "CALYPSO_WEBHOOK_SECRET": "topsecret", "INGEST_PUBLISH_TIMEOUT": "soon"],
                "INGEST_PUBLISH_TIMEOUT"
            ),
            // Too large for a Duration in milliseconds: an error, not a crash.
            (
                ["CALYPSO_WEBHOOK_KEY": "k1", "CALYPSO_WEBHOOK_SECRET": "topsecret", "INGEST_PUBLISH_TIMEOUT": "1e17"],
                "INGEST_PUBLISH_TIMEOUT"
            ),
            // A body that could never fit one Kafka record.
            (
                ["CALYPSO_WEBHOOK_KEY": "k1", "CALYPSO_WEBHOOK_SECRET": "topsecret", "INGEST_MAX_BODY_BYTES": "2000000"],
                "INGEST_MAX_BODY_BYTES"
            ),
        ]
    )
    func errors(environment: [String: String], variable: String) {
        let error = #expect(throws: IngestConfigurationError.self) { try IngestConfiguration(environment: environment) }
        #expect(error?.variable == variable)
        #expect(error?.description.hasPrefix(variable) == true)
        #expect(error?.description.contains("topsecret") == false)
    }
}
