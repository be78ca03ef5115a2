import Crdkafka

/// An error from Kafka or from this module, classified once so callers can decide: retry, abort the
/// transaction, or stop the client.
///
/// Equality compares the ``code`` only. ``description`` is safe to log anywhere: it never holds
/// record keys, values or secrets.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A librdkafka error code (`rd_kafka_resp_err_t`): negative values are client-side, positive
    /// ones come from the broker.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32

        public init(rawValue: Int32) { self.rawValue = rawValue }

        init(_ err: rd_kafka_resp_err_t) { self.rawValue = err.rawValue }

        var rdKafka: rd_kafka_resp_err_t { rd_kafka_resp_err_t(rawValue: rawValue) }

        /// librdkafka's symbolic name, e.g. `_MSG_TIMED_OUT` or `UNKNOWN_TOPIC_OR_PART`.
        public var name: String { String(cString: rd_kafka_err2name(rdKafka)) }

        public var description: String { "\(name) (\(rawValue))" }

        public static let noError = Code(RD_KAFKA_RESP_ERR_NO_ERROR)
        /// The client is shutting down or was shut down.
        public static let shutDown = Code(RD_KAFKA_RESP_ERR__DESTROY)
        public static let transport = Code(RD_KAFKA_RESP_ERR__TRANSPORT)
        public static let allBrokersDown = Code(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        /// The record was not acknowledged within `message.timeout.ms`.
        public static let messageTimedOut = Code(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
        /// An operation (or a Swift-side deadline) timed out.
        public static let timedOut = Code(RD_KAFKA_RESP_ERR__TIMED_OUT)
        public static let queueFull = Code(RD_KAFKA_RESP_ERR__QUEUE_FULL)
        public static let invalidArgument = Code(RD_KAFKA_RESP_ERR__INVALID_ARG)
        /// A configuration property was unknown or had an invalid value.
        public static let invalidConfiguration = Code(RD_KAFKA_RESP_ERR__INVALID_TYPE)
        /// The partition is not (or no longer) assigned to this consumer.
        public static let state = Code(RD_KAFKA_RESP_ERR__STATE)
        public static let noOffset = Code(RD_KAFKA_RESP_ERR__NO_OFFSET)
        public static let fatal = Code(RD_KAFKA_RESP_ERR__FATAL)
        public static let fenced = Code(RD_KAFKA_RESP_ERR__FENCED)
        public static let producerFenced = Code(RD_KAFKA_RESP_ERR_PRODUCER_FENCED)
        public static let invalidProducerEpoch = Code(RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)
        public static let unknownTopicOrPartition = Code(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        public static let unknownTopic = Code(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
        public static let topicAlreadyExists = Code(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        public static let messageSizeTooLarge = Code(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
        public static let purgedFromQueue = Code(RD_KAFKA_RESP_ERR__PURGE_QUEUE)
        public static let purgedInFlight = Code(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
        public static let unknownMemberID = Code(RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID)
        public static let unsupportedFeature = Code(RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)
    }

    /// Whether a record whose send failed may nevertheless have been written.
    public enum Persistence: Sendable, Equatable {
        /// Never written: resending cannot duplicate it.
        case notPersisted
        /// Maybe written: a resend may duplicate it.
        case possiblyPersisted
        /// Written, although the report carries an error.
        case persisted
    }

    public let code: Code
    /// librdkafka's (or this module's) explanation.
    public let message: String
    /// Repeating the same call may succeed.
    public let isRetriable: Bool
    /// The client is unusable: stop, flush, destroy and create a new one.
    public let isFatal: Bool
    /// The current transaction must be aborted; the producer stays usable.
    public let isTxnRequiresAbort: Bool
    /// For a failed send: whether the record may have been written anyway.
    public let persistence: Persistence?

    public init(
        code: Code,
        message: String,
        isRetriable: Bool? = nil,
        isFatal: Bool = false,
        isTxnRequiresAbort: Bool = false,
        persistence: Persistence? = nil
    ) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable ?? Self.retriableCodes.contains(code)
        self.isFatal = isFatal || code == .fatal || code == .fenced
        self.isTxnRequiresAbort = isTxnRequiresAbort
        self.persistence = persistence
    }

    /// Another producer with the same `transactional.id` took over; this one must stop.
    public var isFenced: Bool {
        code == .fenced || code == .producerFenced || code == .invalidProducerEpoch
    }

    /// The broker could not be reached or did not answer in time.
    public var isBrokerUnavailable: Bool {
        [.transport, .allBrokersDown, .messageTimedOut, .timedOut].contains(code)
    }

    public var description: String { "Kafka error \(code.name): \(message)" }

    public static func == (lhs: KafkaError, rhs: KafkaError) -> Bool { lhs.code == rhs.code }

    private static let retriableCodes: Set<Code> = [
        .transport, .allBrokersDown, .messageTimedOut, .timedOut, .queueFull,
        Code(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT),
        Code(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION),
        Code(RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE),
        Code(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS),
        Code(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND),
        Code(RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION),
        Code(RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE),
        Code(RD_KAFKA_RESP_ERR_NOT_COORDINATOR),
        Code(RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS),
        Code(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS),
    ]
}

extension KafkaError {
    /// Wraps a plain librdkafka result code; `nil` when it is `NO_ERROR`.
    static func from(_ err: rd_kafka_resp_err_t, _ context: String? = nil) -> KafkaError? {
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        let text = String(cString: rd_kafka_err2str(err))
        return KafkaError(code: Code(err), message: context.map { "\($0): \(text)" } ?? text)
    }

    /// Takes ownership of an `rd_kafka_error_t` (destroying it) and keeps its classification.
    static func consuming(_ error: OpaquePointer?, _ context: String) -> KafkaError? {
        guard let error else { return nil }
        defer { rd_kafka_error_destroy(error) }
        return KafkaError(
            code: Code(rd_kafka_error_code(error)),
            message: "\(context): \(String(cString: rd_kafka_error_string(error)))",
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            isTxnRequiresAbort: rd_kafka_error_txn_requires_abort(error) != 0
        )
    }

    static func shutDown(_ what: String) -> KafkaError {
        KafkaError(code: .shutDown, message: "\(what) is shut down", isRetriable: false)
    }

    static func check(_ err: rd_kafka_resp_err_t, _ context: String) throws(KafkaError) {
        if let error = from(err, context) { throw error }
    }
}
