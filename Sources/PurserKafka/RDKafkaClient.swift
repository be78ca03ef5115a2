import Crdkafka
import Dispatch
import Foundation
import Logging
import Synchronization

/// What librdkafka's C callbacks reach. Fixed before `rd_kafka_new`, so the callbacks need no lock.
final class ClientCallbacks: Sendable {
    typealias Rebalance = @Sendable (
        OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    ) -> Void

    let logger: Logger
    let onDelivery: (@Sendable (UnsafePointer<rd_kafka_message_t>) -> Void)?
    let onError: @Sendable (KafkaError) -> Void
    let onRebalance: Rebalance?

    init(
        logger: Logger,
        onDelivery: (@Sendable (UnsafePointer<rd_kafka_message_t>) -> Void)? = nil,
        onError: @escaping @Sendable (KafkaError) -> Void,
        onRebalance: Rebalance? = nil
    ) {
        self.logger = logger
        self.onDelivery = onDelivery
        self.onError = onError
        self.onRebalance = onRebalance
    }

    static func from(_ rk: OpaquePointer?) -> ClientCallbacks? {
        guard let rk, let opaque = rd_kafka_opaque(rk) else { return nil }
        return Unmanaged<ClientCallbacks>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// One `rd_kafka_t`. librdkafka handles are thread-safe, and the pointer never changes.
final class RDKafkaClient: @unchecked Sendable {
    let handle: OpaquePointer
    let callbacks: ClientCallbacks
    private let retainedCallbacks: Unmanaged<ClientCallbacks>

    /// Builds the configuration (every property checked, errors naming it) and creates the handle.
    init(type: rd_kafka_type_t, properties: [(String, String)], callbacks: ClientCallbacks) throws(KafkaError) {
        let conf = rd_kafka_conf_new()!
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            if rd_kafka_conf_set(conf, key, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(
                    code: .invalidConfiguration,
                    message: "property \(key): \(string(fromCBuffer: errorText))",
                    isRetriable: false
                )
            }
        }
        let retained = Unmanaged.passRetained(callbacks)
        rd_kafka_conf_set_opaque(conf, retained.toOpaque())
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, message in
            guard let callbacks = ClientCallbacks.from(rk) else { return }
            let text = message.map { String(cString: $0) } ?? ""
            callbacks.logger.log(
                level: RDKafkaClient.logLevel(syslog: level),
                "\(text)",
                metadata: ["kafka.facility": .string(facility.map { String(cString: $0) } ?? "")]
            )
        }
        rd_kafka_conf_set_error_cb(conf) { rk, err, reason, _ in
            guard let callbacks = ClientCallbacks.from(rk) else { return }
            let reasonText = reason.map { String(cString: $0) } ?? ""
            let err = rd_kafka_resp_err_t(rawValue: err)
            if err == RD_KAFKA_RESP_ERR__FATAL, let rk {
                var cause = [CChar](repeating: 0, count: 512)
                let code = rd_kafka_fatal_error(rk, &cause, cause.count)
                callbacks.onError(
                    KafkaError(
                        code: KafkaError.Code(code),
                        message: string(fromCBuffer: cause),
                        isRetriable: false,
                        isFatal: true
                    )
                )
            } else {
                callbacks.onError(KafkaError(code: KafkaError.Code(err), message: reasonText))
            }
        }
        if callbacks.onDelivery != nil {
            rd_kafka_conf_set_dr_msg_cb(conf) { rk, message, _ in
                guard let message, let callbacks = ClientCallbacks.from(rk) else { return }
                callbacks.onDelivery?(message)
            }
        }
        if callbacks.onRebalance != nil {
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, _ in
                guard let rk, let partitions, let callbacks = ClientCallbacks.from(rk) else { return }
                callbacks.onRebalance?(rk, err, partitions)
            }
        }
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            retained.release()
            throw KafkaError(code: .invalidConfiguration, message: string(fromCBuffer: errorText), isRetriable: false)
        }
        self.handle = handle
        self.callbacks = callbacks
        self.retainedCallbacks = retained
    }

    deinit {
        rd_kafka_destroy(handle)
        retainedCallbacks.release()
    }

    var name: String { String(cString: rd_kafka_name(handle)) }

    /// Low and high watermarks of a partition, asking the leader (blocking).
    func watermarks(_ partition: TopicPartition, timeout: Duration) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        try KafkaError.check(
            rd_kafka_query_watermark_offsets(
                handle,
                partition.topic,
                partition.partition,
                &low,
                &high,
                Int32(clamping: timeout.milliseconds)
            ),
            "watermarks of \(partition)"
        )
        return (low, high)
    }

    private static func logLevel(syslog level: Int32) -> Logger.Level {
        switch level {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    }
}

/// A dedicated OS thread that repeats `body` (each call blocks at most a poll timeout) until stopped,
/// so librdkafka's callbacks never run on, or block, Swift's cooperative pool.
final class PollThread: Sendable {
    private let isStopping = LockedState(false)
    private let finished = DispatchSemaphore(value: 0)

    init(name: String, body: @escaping @Sendable () -> Void) {
        let thread = Thread { [isStopping, finished] in
            while !isStopping.withLock({ $0 }) { body() }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Asks the loop to end and waits for it (one poll timeout at most).
    func stop() {
        let wasStopping = isStopping.withLock { isStopping in
            defer { isStopping = true }
            return isStopping
        }
        guard !wasStopping else { return }
        finished.wait()
    }
}

/// Runs a blocking librdkafka call on a GCD thread, off the cooperative pool.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

/// Conversions between Swift partition lists and `rd_kafka_topic_partition_list_t`.
enum PartitionList {
    /// A new C list; the caller destroys it.
    static func make(_ items: [TopicPartitionOffset]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(items.count))!
        for item in items {
            rd_kafka_topic_partition_list_add(list, item.topicPartition.topic, item.topicPartition.partition).pointee
                .offset = item.offset
        }
        return list
    }

    static func make(_ partitions: [TopicPartition]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        make(partitions.map { TopicPartitionOffset($0, offset: TopicPartitionOffset.invalid) })
    }

    static func with<R, Failure: Error>(
        _ items: [TopicPartitionOffset],
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(Failure) -> R
    ) throws(Failure) -> R {
        let list = make(items)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return try body(list)
    }

    static func elements(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartitionOffset] {
        (0..<Int(list.pointee.cnt)).map { index in
            let element = list.pointee.elems[index]
            return TopicPartitionOffset(String(cString: element.topic), element.partition, offset: element.offset)
        }
    }

    /// The first per-partition error in the list, if any.
    static func firstError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>, _ context: String) -> KafkaError? {
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            if let error = KafkaError.from(
                element.err,
                "\(context) \(String(cString: element.topic))[\(element.partition)]"
            ) {
                return error
            }
        }
        return nil
    }
}

/// A `Mutex` in a class, so state can be shared with librdkafka's callbacks and Swift tasks alike.
final class LockedState<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result: Sendable, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try mutex.withLock { (value: inout Value) throws(Failure) -> Result in try body(&value) }
    }
}

/// The text in a NUL-terminated buffer filled by librdkafka.
func string(fromCBuffer buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
