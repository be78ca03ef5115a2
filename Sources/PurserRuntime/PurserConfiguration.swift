import PurserKafka
import PurserSchema

/// Settings shared by every Purser process, read from the environment once in `main`.
///
/// Tests build one directly with ``init(brokers:)`` and adjust the `var`s.
public struct PurserConfiguration: Sendable {
    /// Where Kafka is (`KAFKA_BROKERS`). Once an embedded broker runs, set this to its address (rather than
    /// building a new configuration) so the embedded broker's defaults, such as at-least-once, stay.
    public var brokers: KafkaBrokers
    /// Extra librdkafka properties (security, SASL, TLS), applied after every typed setting
    /// (loaded from `KAFKA_PROPERTIES_FILE`). Default: none.
    public var kafkaProperties: [String: String] = [:]
    /// How long a worker's fetch may wait at the broker for records (`KAFKA_FETCH_MAX_WAIT_MS`). Default:
    /// 500 ms on a real cluster, which answers as soon as records arrive; `EmbeddedKafka.clientFetchMaxWait`
    /// with the embedded broker, which holds an empty fetch for the whole wait even when records arrive
    /// meanwhile (at 500 ms each hop of the pipeline would add up to half a second).
    public var fetchMaxWait: Duration
    /// Prepended to every topic name (`TOPIC_PREFIX`). Default: empty.
    public var topicPrefix = ""
    /// Port of `/metrics`, `/health/live` and `/health/ready` (`METRICS_PORT`); 0 picks a free port.
    /// Default: `9090`.
    public var metricsPort = 9090
    /// How outputs and offsets are committed (`PROCESSING_GUARANTEE`). Default: exactly-once on a real
    /// cluster, at-least-once on the embedded broker (which never stores offsets sent in a transaction).
    public var processingGuarantee: ProcessingGuarantee
    /// When deposits are credited (`CREDIT_ON`). Default: ``CreditOn/confirmed``.
    public var creditOn = CreditOn.confirmed
    /// Records a worker instance holds at once, running or waiting for an earlier record of their key
    /// (`WORKER_MAX_IN_FLIGHT`). Default: `256`.
    public var maxInFlight = 256 {
        didSet { precondition(maxInFlight > 0, "maxInFlight must be positive") }
    }
    /// Retry budget for transient errors of one record. Default: ``RetryPolicy/init()``.
    public var retry = RetryPolicy()
    /// How often finished records' offsets are committed (and, exactly-once, transactions committed).
    /// Default: 1 s.
    public var commitInterval = Duration.seconds(1)
    /// How long a graceful shutdown waits for running records before cancelling them (a cancelled record
    /// is not committed, so it is processed again after restart). Default: 10 s.
    public var shutdownDrainTimeout = Duration.seconds(10)
    /// How long a revoke waits for the running records of its partitions. One still running then is given up:
    /// it publishes nothing when it ends, and the partition's next owner processes it again. Default: 30 s.
    public var revokeDrainTimeout = Duration.seconds(30)
    /// Calypso's API location and merchant credentials; empty where a process does not call Calypso.
    public var calypso = CalypsoSettings()

    /// Every topic name, with ``topicPrefix``.
    public var topics: TopicNames { TopicNames(prefix: topicPrefix) }

    /// A configuration with every default, for `brokers`.
    public init(brokers: KafkaBrokers) {
        self.brokers = brokers
        self.processingGuarantee = brokers.isEmbedded ? .atLeastOnce : .exactlyOnce
        self.fetchMaxWait = brokers.isEmbedded ? EmbeddedKafka.clientFetchMaxWait : KafkaConsumerConfiguration.defaultFetchMaxWait
    }
}

/// Calypso's API location and merchant credentials.
public struct CalypsoSettings: Sendable {
    /// Base URL (`CALYPSO_API_URL`); `nil` means "the in-process sandbox" for `purser run`.
    public var apiURL: String?
    /// Merchant account id (`CALYPSO_ACCOUNT_ID`).
    public var accountID: String?
    /// Public API key (`CALYPSO_API_KEY` or `CALYPSO_API_KEY_FILE`).
    public var apiKey: Secret?
    /// API secret (`CALYPSO_API_SECRET` or `CALYPSO_API_SECRET_FILE`).
    public var apiSecret: Secret?

    public init(apiURL: String? = nil, accountID: String? = nil, apiKey: Secret? = nil, apiSecret: Secret? = nil) {
        self.apiURL = apiURL
        self.accountID = accountID
        self.apiKey = apiKey
        self.apiSecret = apiSecret
    }

    /// The credentials, for a process that calls Calypso.
    ///
    /// - Throws: ``ConfigurationError`` naming the first missing variable.
    public func requireCredentials() throws(ConfigurationError) -> (accountID: String, apiKey: Secret, apiSecret: Secret) {
        guard let accountID else { throw Self.missing("CALYPSO_ACCOUNT_ID") }
        guard let apiKey else { throw Self.missing("CALYPSO_API_KEY") }
        guard let apiSecret else { throw Self.missing("CALYPSO_API_SECRET") }
        return (accountID, apiKey, apiSecret)
    }

    private static func missing(_ variable: String) -> ConfigurationError {
        ConfigurationError(.missing, variable: variable, reason: "is required to call Calypso but not set")
    }
}
