import PurserKafka
import PurserRuntime
import Testing

@Suite struct ConfigurationTests {
    struct Unreadable: Error {}

    func configuration(
        _ variables: [String: String],
        files: [String: String] = [:],
        allowsEmbeddedBroker: Bool = false
    ) throws(ConfigurationError) -> PurserConfiguration {
        let environment = EnvironmentReader(variables) { path in
            guard let contents = files[path] else { throw Unreadable() }
            return contents
        }
        return try PurserConfiguration(environment: environment, allowsEmbeddedBroker: allowsEmbeddedBroker)
    }

    func failure(
        _ variables: [String: String],
        files: [String: String] = [:],
        allowsEmbeddedBroker: Bool = false
    ) -> ConfigurationError? {
        #expect(throws: ConfigurationError.self) {
            try configuration(variables, files: files, allowsEmbeddedBroker: allowsEmbeddedBroker)
        }
    }

    @Test func defaultsApplyOnARealCluster() throws {
        let config = try configuration(["KAFKA_BROKERS": "k1:9092, k2:9093"])
        #expect(config.brokers.bootstrapServers == ["k1:9092", "k2:9093"])
        #expect(config.topicPrefix == "")
        #expect(config.metricsPort == 9090)
        #expect(config.processingGuarantee == .exactlyOnce)
        #expect(config.creditOn == .confirmed)
        #expect(config.maxInFlight == 256)
        #expect(config.kafkaProperties.isEmpty)
        #expect(config.fetchMaxWait == .milliseconds(500))
        #expect(config.calypso.apiURL == nil)
    }

    @Test func embeddedBrokerIsOnlyForPurserRunAndDefaultsToAtLeastOnce() throws {
        let run = try configuration([:], allowsEmbeddedBroker: true)
        #expect(run.brokers.isEmbedded)
        #expect(run.processingGuarantee == .atLeastOnce)
        #expect(run.fetchMaxWait == EmbeddedKafka.clientFetchMaxWait)
        let explicit = try configuration(["KAFKA_BROKERS": "embedded"], allowsEmbeddedBroker: true)
        #expect(explicit.brokers == .embedded)

        let missing = failure([:])
        #expect(missing?.code == .missing)
        #expect(missing?.variable == "KAFKA_BROKERS")
        let refused = failure(["KAFKA_BROKERS": "embedded"])
        #expect(refused?.code == .invalid)
        #expect(refused?.description.contains("purser run") == true)
    }

    @Test func everyVariableIsRead() throws {
        let config = try configuration(
            [
                "KAFKA_BROKERS": "localhost:9092",
                "TOPIC_PREFIX": "prod.",
                "METRICS_PORT": "9100",
                "PROCESSING_GUARANTEE": "at_least_once",
                "CREDIT_ON": "settled",
                "WORKER_MAX_IN_FLIGHT": "32",
                "KAFKA_FETCH_MAX_WAIT_MS": "50",
                "CALYPSO_API_URL": "https://api.calypso.finance",
                "CALYPSO_ACCOUNT_ID": "0xabc",
                "CALYPSO_API_KEY": "public-key",
                "CALYPSO_API_SECRET_FILE": "/run/secrets/calypso",
                "KAFKA_PROPERTIES_FILE": "/etc/kafka.properties",
            ],
            files: [
                "/run/secrets/calypso": "s3cret\n",
                "/etc/kafka.properties": "# security\nsecurity.protocol = SASL_SSL\n\nsasl.mechanisms=PLAIN\n",
            ]
        )
        #expect(config.topicPrefix == "prod.")
        #expect(config.metricsPort == 9100)
        #expect(config.processingGuarantee == .atLeastOnce)
        #expect(config.creditOn == .settled)
        #expect(config.maxInFlight == 32)
        #expect(config.fetchMaxWait == .milliseconds(50))
        #expect(config.kafkaProperties == ["security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN"])
        let credentials = try config.calypso.requireCredentials()
        #expect(credentials.accountID == "0xabc")
        #expect(credentials.apiKey.value == "public-key")
        #expect(credentials.apiSecret.value == "s3cret")
        #expect(config.calypso.apiURL == "https://api.calypso.finance")
    }

    @Test(arguments: [
        ("WORKER_MAX_IN_FLIGHT", "0"),
        ("WORKER_MAX_IN_FLIGHT", "many"),
        ("METRICS_PORT", "70000"),
        ("KAFKA_FETCH_MAX_WAIT_MS", "-1"),
        ("PROCESSING_GUARANTEE", "exactly-once"),
        ("CREDIT_ON", "paid"),
        ("CALYPSO_API_URL", "ftp://calypso"),
        ("KAFKA_BROKERS", "localhost"),
        ("KAFKA_BROKERS", "a:1,,b:2"),
    ])
    func invalidValuesAreRejectedNamingTheVariable(variable: String, value: String) {
        var variables = ["KAFKA_BROKERS": "localhost:9092"]
        variables[variable] = value
        let error = failure(variables)
        #expect(error?.code == .invalid)
        #expect(error?.variable == variable)
        #expect(error?.description.hasPrefix(variable) == true)
    }

    @Test func secretsNeverAppearInErrorsOrDescriptions() throws {
        let both = failure([
            "KAFKA_BROKERS": "localhost:9092", "CALYPSO_API_SECRET": "s3cret", "CALYPSO_API_SECRET_FILE": "/x",
        ])
        #expect(both?.variable == "CALYPSO_API_SECRET_FILE")
        #expect(both?.description.contains("s3cret") == false)

        let unreadable = failure(["KAFKA_BROKERS": "localhost:9092", "CALYPSO_API_SECRET_FILE": "/missing"])
        #expect(unreadable?.code == .unreadableFile)

        let config = try configuration(["KAFKA_BROKERS": "localhost:9092", "CALYPSO_API_SECRET": "s3cret"])
        let secret = try #require(config.calypso.apiSecret)
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        #expect(String(describing: config).contains("s3cret") == false)
    }

    @Test func missingCredentialsAreNamed() throws {
        let config = try configuration(["KAFKA_BROKERS": "localhost:9092", "CALYPSO_ACCOUNT_ID": "0xabc"])
        let error = #expect(throws: ConfigurationError.self) { try config.calypso.requireCredentials() }
        #expect(error?.variable == "CALYPSO_API_KEY")
    }

    @Test func malformedPropertiesFileIsRejectedWithItsLine() {
        let error = failure(
            ["KAFKA_BROKERS": "localhost:9092", "KAFKA_PROPERTIES_FILE": "/p"],
            files: ["/p": "acks=all\nnot a property\n"]
        )
        #expect(error?.variable == "KAFKA_PROPERTIES_FILE")
        #expect(error?.description.contains("/p:2") == true, "names the file and line")
    }
}
