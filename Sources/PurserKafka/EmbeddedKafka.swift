import Crdkafka
import Logging
import ServiceLifecycle

/// An in-process Kafka cluster: librdkafka's mock cluster, speaking the Kafka protocol on loopback.
///
/// Used by `purser run`, `purser broker`, the tests and the benchmarks. Other processes can connect
/// to ``bootstrapServers`` too. Data lives in memory only (about the last 5 MiB of each partition).
///
/// - Important: The mock cluster is not a full broker. It does not answer CreateTopics,
///   DescribeConfigs or ListGroups (create topics with ``createTopic(_:partitions:)``), returns -1
///   for timestamp lookups, ignores offsets sent inside a transaction, does not hide aborted records
///   from `read_committed` readers, and does not fence a second producer with the same
///   `transactional.id`.
public final class EmbeddedKafka: @unchecked Sendable {
    // @unchecked: `cluster` is an immutable pointer; every mock call is thread-safe (it is handed to
    // the cluster's own thread).

    /// Kafka API numbers accepted by ``pushRequestErrors(_:_:)``.
    public struct APIKey: Hashable, Sendable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let produce = APIKey(rawValue: 0)
        public static let fetch = APIKey(rawValue: 1)
        public static let listOffsets = APIKey(rawValue: 2)
        public static let metadata = APIKey(rawValue: 3)
        public static let offsetCommit = APIKey(rawValue: 8)
        public static let offsetFetch = APIKey(rawValue: 9)
        public static let findCoordinator = APIKey(rawValue: 10)
        public static let joinGroup = APIKey(rawValue: 11)
        public static let heartbeat = APIKey(rawValue: 12)
        public static let initProducerID = APIKey(rawValue: 22)
        public static let addPartitionsToTxn = APIKey(rawValue: 24)
        public static let addOffsetsToTxn = APIKey(rawValue: 25)
        public static let endTxn = APIKey(rawValue: 26)
        public static let txnOffsetCommit = APIKey(rawValue: 28)
    }

    /// The `fetch.wait.max.ms` its consumers want: the mock cluster holds a fetch that found no records for
    /// the whole wait, even when records arrive meanwhile, so librdkafka's 500 ms would add up to half a
    /// second per hop. Shorter costs more fetch requests while idle.
    public static let clientFetchMaxWait = Duration.milliseconds(20)

    /// All brokers, for ``setBrokerDown(_:)``, ``setBrokerUp(_:)`` and ``setRoundTripTime(_:broker:)``.
    public static let allBrokers: Int32 = -1

    private let host: RDKafkaClient
    private let cluster: OpaquePointer
    /// `host:port` of every broker, comma-separated: the `bootstrap.servers` value.
    public let bootstrapServers: String
    /// The number of brokers; their ids are `1...brokerCount`.
    public let brokerCount: Int

    /// Starts `brokers` brokers on 127.0.0.1, each on a free port.
    public init(brokers: Int = 1, logger: Logger) throws(KafkaError) {
        precondition(brokers > 0, "an embedded cluster needs at least one broker")
        host = try RDKafkaClient(
            type: RD_KAFKA_PRODUCER,
            properties: [("client.id", "embedded-kafka")],
            callbacks: ClientCallbacks(logger: logger) { error in
                logger.debug("embedded Kafka host error", metadata: ["error": "\(error)"])
            }
        )
        guard let cluster = rd_kafka_mock_cluster_new(host.handle, Int32(brokers)) else {
            throw KafkaError(code: .invalidArgument, message: "cannot start the embedded Kafka cluster")
        }
        self.cluster = cluster
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        self.brokerCount = brokers
    }

    deinit { rd_kafka_mock_cluster_destroy(cluster) }

    /// `bootstrapServers` as a list.
    public var brokers: [String] { KafkaProperties.brokers(bootstrapServers) }

    /// Creates a topic (a no-op answer when it already exists).
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        try KafkaError.check(
            rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(min(replicationFactor, brokerCount))),
            "create topic \(name)"
        )
    }

    /// Makes a broker refuse connections (and drop its current ones) until ``setBrokerUp(_:)``.
    public func setBrokerDown(_ broker: Int32 = allBrokers) throws(KafkaError) {
        try forEachBroker(broker) { (id: Int32) throws(KafkaError) in try KafkaError.check(rd_kafka_mock_broker_set_down(cluster, id), "broker \(id) down") }
    }

    public func setBrokerUp(_ broker: Int32 = allBrokers) throws(KafkaError) {
        try forEachBroker(broker) { (id: Int32) throws(KafkaError) in try KafkaError.check(rd_kafka_mock_broker_set_up(cluster, id), "broker \(id) up") }
    }

    /// Delays every response of a broker by `rtt`.
    public func setRoundTripTime(_ rtt: Duration, broker: Int32 = allBrokers) throws(KafkaError) {
        try forEachBroker(broker) { (id: Int32) throws(KafkaError) in
            try KafkaError.check(rd_kafka_mock_broker_set_rtt(cluster, id, Int32(rtt.milliseconds)), "broker \(id) rtt")
        }
    }

    /// Makes the next `errors.count` requests of this API (on any broker) fail, in order, with these
    /// errors. ``KafkaError/Code/transport`` drops the connection instead.
    public func pushRequestErrors(_ api: APIKey, _ errors: [KafkaError.Code]) {
        let codes = errors.map(\.rdKafka)
        codes.withUnsafeBufferPointer { rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, $0.count, $0.baseAddress) }
    }

    /// Forgets the errors pushed for this API that were not used yet.
    public func clearRequestErrors(_ api: APIKey) {
        rd_kafka_mock_clear_request_errors(cluster, api.rawValue)
    }

    /// Makes Metadata (and AddPartitionsToTxn) requests for the topic fail with `error`; `.noError` heals.
    public func setTopicError(_ topic: String, _ error: KafkaError.Code) {
        rd_kafka_mock_topic_set_error(cluster, topic, error.rdKafka)
    }

    /// librdkafka's "all brokers" (-1) is not accepted by every 2.0.2 mock call, so it is expanded here.
    private func forEachBroker(_ broker: Int32, _ body: (Int32) throws(KafkaError) -> Void) throws(KafkaError) {
        if broker == Self.allBrokers {
            for id in 1...Int32(brokerCount) { try body(id) }
        } else {
            try body(broker)
        }
    }
}

extension EmbeddedKafka: Service {
    /// Keeps the broker up until graceful shutdown, so it can join a `ServiceGroup`.
    public func run() async throws {
        try? await gracefulShutdown()
    }
}
