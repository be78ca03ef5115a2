/// Settings every Kafka client shares.
public struct KafkaClientOptions: Sendable {
    /// `bootstrap.servers`, as `host:port` entries.
    public var bootstrapServers: [String]
    /// `client.id`. Default: `"purser"`.
    public var clientID = "purser"
    /// `reconnect.backoff.max.ms`: the longest pause between reconnection attempts. Default: 2 s, so
    /// a client notices within seconds that a broker is back (librdkafka's own default is 10 s).
    public var reconnectBackoffMax: Duration = .seconds(2)
    /// Raw librdkafka properties (security, SASL, TLS, tuning), applied after every typed setting,
    /// so they win. Usually loaded with ``KafkaProperties/load(path:)``.
    public var additionalProperties: [String: String] = [:]

    public init(bootstrapServers: [String]) { self.bootstrapServers = bootstrapServers }

    var properties: [(String, String)] {
        [
            ("bootstrap.servers", bootstrapServers.joined(separator: ",")),
            ("client.id", clientID),
            ("reconnect.backoff.max.ms", String(reconnectBackoffMax.milliseconds)),
        ]
    }
}

/// Configuration of a ``KafkaProducer``.
public struct KafkaProducerConfiguration: Sendable {
    public var client: KafkaClientOptions
    /// `enable.idempotence`: no duplicates or reordering from internal retries. Default: `true`.
    public var isIdempotent = true
    /// `acks`: `-1` (`all`) waits for every in-sync replica. Default: `all`.
    public var acks = "all"
    /// `message.timeout.ms`: how long librdkafka keeps trying to deliver a record before its send
    /// fails with ``KafkaError/Code/messageTimedOut``. Default: 30 s.
    public var messageTimeout: Duration = .seconds(30)
    /// `linger.ms`: how long records wait to be batched. Default: 5 ms.
    public var linger: Duration = .milliseconds(5)
    /// `transactional.id`: set it to use transactions; stable per worker slot. Default: none.
    public var transactionalID: String?
    /// `transaction.timeout.ms`. Default: 60 s.
    public var transactionTimeout: Duration = .seconds(60)
    /// How long ``KafkaProducer/shutdown()`` waits for outstanding records. Default: 10 s.
    public var shutdownFlushTimeout: Duration = .seconds(10)

    public init(bootstrapServers: [String]) { client = KafkaClientOptions(bootstrapServers: bootstrapServers) }

    var properties: [(String, String)] {
        var result = client.properties
        result += [
            ("enable.idempotence", String(isIdempotent)),
            ("acks", acks),
            ("message.timeout.ms", String(messageTimeout.milliseconds)),
            ("linger.ms", String(linger.milliseconds)),
        ]
        if let transactionalID {
            result.append(("transactional.id", transactionalID))
            result.append(("transaction.timeout.ms", String(transactionTimeout.milliseconds)))
        }
        return result + client.additionalProperties.sorted { $0.key < $1.key }
    }
}

/// Configuration of a ``KafkaConsumer``.
public struct KafkaConsumerConfiguration: Sendable {
    /// Where a group without a committed offset starts.
    public struct OffsetReset: Sendable, Equatable {
        let value: String
        public static let earliest = OffsetReset(value: "earliest")
        public static let latest = OffsetReset(value: "latest")
        public static let error = OffsetReset(value: "error")
    }

    public var client: KafkaClientOptions
    /// `group.id`. Required to subscribe or commit; without it the consumer can only `assign`.
    public var groupID: String?
    /// `group.instance.id` (static membership). Default: none.
    public var groupInstanceID: String?
    /// `session.timeout.ms`. Default: 45 s; tests on the embedded broker use about 6 s.
    public var sessionTimeout: Duration = .seconds(45)
    /// `heartbeat.interval.ms`. Default: 3 s; tests use about 0.5 s.
    public var heartbeatInterval: Duration = .seconds(3)
    /// `max.poll.interval.ms`: the longest a revoke hook or a paused reader may hold up polling.
    /// Default: 300 s.
    public var maxPollInterval: Duration = .seconds(300)
    /// `auto.offset.reset`. Default: `earliest`.
    public var offsetReset = OffsetReset.earliest
    /// `enable.auto.commit`: commit *stored* offsets in the background. Default: `true`.
    public var isAutoCommitEnabled = true
    /// `auto.commit.interval.ms`. Default: 1 s.
    public var autoCommitInterval: Duration = .seconds(1)
    /// `enable.auto.offset.store`. Default: `false`: only offsets stored with
    /// ``KafkaConsumer/storeOffset(of:)`` (records processed) are committed.
    public var isAutoOffsetStoreEnabled = false
    /// `isolation.level` is `read_committed` when `true`. Default: `true`.
    public var readsCommittedOnly = true
    /// Commit stored offsets when partitions are revoked (after the revoke hook ran). Default: `true`.
    /// Turn off when offsets go through transactions.
    public var commitsOnRevoke = true
    /// `fetch.wait.max.ms`: how long the broker may hold a fetch that found no records. A real broker
    /// answers as soon as records arrive; the embedded broker holds it for the whole wait regardless, so
    /// its clients want a short one. Default: ``defaultFetchMaxWait``.
    public var fetchMaxWait: Duration = Self.defaultFetchMaxWait
    /// librdkafka's own default `fetch.wait.max.ms`, 500 ms.
    public static let defaultFetchMaxWait = Duration.milliseconds(500)

    public init(bootstrapServers: [String], groupID: String?) {
        client = KafkaClientOptions(bootstrapServers: bootstrapServers)
        self.groupID = groupID
    }

    var properties: [(String, String)] {
        var result = client.properties
        result += [
            // A consumer without a group still needs an id inside librdkafka; it never joins or commits.
            ("group.id", groupID ?? "purser-assign-only"),
            ("partition.assignment.strategy", "cooperative-sticky"),
            ("session.timeout.ms", String(sessionTimeout.milliseconds)),
            ("heartbeat.interval.ms", String(heartbeatInterval.milliseconds)),
            ("max.poll.interval.ms", String(maxPollInterval.milliseconds)),
            ("auto.offset.reset", offsetReset.value),
            ("enable.auto.commit", String(groupID != nil && isAutoCommitEnabled)),
            ("auto.commit.interval.ms", String(autoCommitInterval.milliseconds)),
            ("enable.auto.offset.store", String(isAutoOffsetStoreEnabled)),
            ("isolation.level", readsCommittedOnly ? "read_committed" : "read_uncommitted"),
            ("enable.partition.eof", "false"),
            ("fetch.wait.max.ms", String(fetchMaxWait.milliseconds)),
        ]
        if let groupInstanceID { result.append(("group.instance.id", groupInstanceID)) }
        return result + client.additionalProperties.sorted { $0.key < $1.key }
    }
}
