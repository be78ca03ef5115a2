import Logging
import ServiceLifecycle
import Synchronization

/// The latest value per key of a compacted topic (e.g. `purser.customers.v1`), kept in memory by every
/// instance that needs it.
///
/// The table reads every partition of the topic from the beginning, without a consumer group, and keeps
/// following it while it runs; a record whose value decodes to `nil` (a tombstone) removes its key.
///
/// Freshness: ``value(forKey:)`` waits until the table has read every partition up to the end it had when
/// the table started, so no decision is made on a table that is still loading. After that the table lags
/// the topic by the time a record takes to be fetched (typically milliseconds); ``catchUp()`` waits until
/// it has read everything published before the call, for a caller that needs to see a change made just
/// before.
public final class GlobalTable<Value: Sendable>: Service, ReadinessReporting, Sendable {
    /// Turns a record into a key and its new value (`nil` deletes the key); returning `nil` skips the record.
    public typealias Decode = @Sendable (InputRecord) throws -> (key: String, value: Value?)?

    let topic: String
    let configuration: PurserConfiguration
    let logger: Logger
    let decode: Decode
    let state = Mutex(TableState<Value>())

    /// - Parameters:
    ///   - topic: Full topic name (with `TOPIC_PREFIX`).
    ///   - configuration: Where Kafka is.
    ///   - decode: Maps a record to a key and value. A record it throws on is logged and skipped, since a
    ///     table has no dead-letter topic.
    public init(topic: String, configuration: PurserConfiguration, logger: Logger, decode: @escaping Decode) {
        self.topic = topic
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: LoggingKeys.topic] = .string(topic)
        self.logger = logger
        self.decode = decode
    }

    /// `true` once the table has loaded the topic up to the end it had at start.
    public var isReady: Bool { state.withLock { $0.isLoaded } }

    /// The number of keys held.
    public var count: Int { state.withLock { $0.values.count } }
}

/// The table's contents and loading progress; pure, so it can be tested without Kafka.
struct TableState<Value> {
    var values: [String: Value] = [:]
    var isLoaded = false

    mutating func apply(key: String, value: Value?) {
        values[key] = value
    }
}

extension GlobalTable {
    /// Loads the topic, then follows it until graceful shutdown.
    public func run() async throws {
        throw RuntimeNotWiredError()
    }

    /// The latest value for `key`, once the table has loaded; `nil` when the key has none.
    public func value(forKey key: String) async throws -> Value? {
        throw RuntimeNotWiredError()
    }

    /// Waits until the table has read every record published before this call.
    public func catchUp() async throws {
        throw RuntimeNotWiredError()
    }
}

/// Thrown by the parts of the runtime whose Kafka wiring has not landed yet.
struct RuntimeNotWiredError: Error, CustomStringConvertible {
    var description: String { "the worker runtime's Kafka wiring is not available yet" }
}
