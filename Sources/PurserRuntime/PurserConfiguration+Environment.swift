import PurserKafka

extension PurserConfiguration {
    /// Every variable ``init(environment:allowsEmbeddedBroker:)`` reads, `…_FILE` variants included.
    public static let environmentVariables = [
        "KAFKA_BROKERS", "KAFKA_PROPERTIES_FILE", "KAFKA_FETCH_MAX_WAIT_MS", "TOPIC_PREFIX", "METRICS_PORT", "PROCESSING_GUARANTEE", "CREDIT_ON",
        "WORKER_MAX_IN_FLIGHT", "CALYPSO_API_URL", "CALYPSO_ACCOUNT_ID", "CALYPSO_API_KEY", "CALYPSO_API_KEY_FILE",
        "CALYPSO_API_SECRET", "CALYPSO_API_SECRET_FILE",
    ]

    /// Reads the configuration from the environment.
    ///
    /// Variables: `KAFKA_BROKERS`, `KAFKA_PROPERTIES_FILE`, `KAFKA_FETCH_MAX_WAIT_MS`, `TOPIC_PREFIX`, `METRICS_PORT`,
    /// `PROCESSING_GUARANTEE`, `CREDIT_ON`, `WORKER_MAX_IN_FLIGHT`, `CALYPSO_API_URL`, `CALYPSO_ACCOUNT_ID`,
    /// `CALYPSO_API_KEY`, `CALYPSO_API_SECRET` (the last two also as `…_FILE`).
    ///
    /// - Parameters:
    ///   - environment: The variables to read.
    ///   - allowsEmbeddedBroker: `true` only for `purser run`: `KAFKA_BROKERS` may then be `embedded` and
    ///     defaults to it; every other process requires bootstrap servers.
    /// - Throws: ``ConfigurationError`` naming the variable at fault.
    public init(environment: EnvironmentReader, allowsEmbeddedBroker: Bool) throws(ConfigurationError) {
        let brokers = try environment.parsed("KAFKA_BROKERS", expected: "'embedded' or a list of host:port") {
            KafkaBrokers($0)
        }
        switch brokers {
        case nil where allowsEmbeddedBroker:
            self.init(brokers: .embedded)
        case nil:
            throw ConfigurationError(.missing, variable: "KAFKA_BROKERS", reason: "is required (host:port list)")
        case let brokers? where brokers.isEmbedded && !allowsEmbeddedBroker:
            throw ConfigurationError(
                .invalid,
                variable: "KAFKA_BROKERS",
                reason: "'embedded' is only available to 'purser run'; give host:port bootstrap servers"
            )
        case let brokers?:
            self.init(brokers: brokers)
        }

        if let path = environment.string("KAFKA_PROPERTIES_FILE") {
            do {
                kafkaProperties = try KafkaProperties.parse(environment.readFile(path), path: path)
            } catch let error as KafkaProperties.LoadError {
                throw ConfigurationError(.invalid, variable: "KAFKA_PROPERTIES_FILE", reason: error.description)
            } catch {
                throw ConfigurationError(.unreadableFile, variable: "KAFKA_PROPERTIES_FILE", reason: "cannot read '\(path)'")
            }
        }
        if let milliseconds = try environment.integer("KAFKA_FETCH_MAX_WAIT_MS", in: 0...300_000) {
            fetchMaxWait = .milliseconds(milliseconds)
        }
        topicPrefix = environment.string("TOPIC_PREFIX") ?? ""
        metricsPort = try environment.integer("METRICS_PORT", in: 0...65535) ?? metricsPort
        processingGuarantee =
            try environment.parsed("PROCESSING_GUARANTEE", expected: "'exactly_once' or 'at_least_once'") {
                ProcessingGuarantee($0)
            } ?? processingGuarantee
        creditOn = try environment.parsed("CREDIT_ON", expected: "'confirmed' or 'settled'") { CreditOn($0) } ?? creditOn
        maxInFlight = try environment.integer("WORKER_MAX_IN_FLIGHT", in: 1...1_000_000) ?? maxInFlight
        calypso = CalypsoSettings(
            apiURL: try environment.parsed("CALYPSO_API_URL", expected: "an http or https URL") { text in
                text.hasPrefix("http://") || text.hasPrefix("https://") ? text : nil
            },
            accountID: environment.string("CALYPSO_ACCOUNT_ID"),
            apiKey: try environment.secret("CALYPSO_API_KEY"),
            apiSecret: try environment.secret("CALYPSO_API_SECRET")
        )
    }
}
