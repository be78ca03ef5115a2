import Crdkafka
import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

/// An idempotent Kafka producer (`acks=all`) whose ``send(_:)`` waits for the broker's answer.
///
/// Safe to share: many tasks may call ``send(_:)`` concurrently. A dedicated thread polls librdkafka
/// for delivery reports from creation until ``shutdown()``. As a `Service`, ``run()`` waits for
/// graceful shutdown (or a fatal error), then flushes.
///
/// ```swift
/// let producer = try KafkaProducer(configuration: .init(bootstrapServers: ["localhost:9092"]), logger: logger)
/// let report = try await producer.send(ProducerRecord(topic: "t", key: "customer-1", value: "{}"))
/// ```
public final class KafkaProducer: Service, Sendable {
    /// Where an awaited send stands. A report may arrive before its sender suspends, hence three states.
    private enum Slot {
        case enqueued
        case awaiting(CheckedContinuation<Delivered, any Error>)
        case delivered(Result<Delivered, KafkaError>)
    }

    /// Whose record a delivery report is about, carried in the record's opaque pointer. Batch members are
    /// found by batch and index, so a batch costs one table entry, not one per record.
    private enum Ticket {
        case single(UInt)
        case batchMember(batch: UInt, index: Int)

        /// Bits of the opaque holding a batch member's index; larger batches are sent in chunks.
        /// For a record nobody waits for: no sender is ever given id 0, so its report finds no slot.
        static let unawaited = Ticket.single(0)

        static let indexBits = 24
        static let maxBatchCount = 1 << indexBits
        private static let batchFlag: UInt = 1 << (UInt.bitWidth - 1)

        var opaque: UInt {
            switch self {
            case .single(let id): id
            case .batchMember(let batch, let index): Self.batchFlag | batch << Self.indexBits | UInt(index)
            }
        }

        init(opaque: UInt) {
            guard opaque & Self.batchFlag != 0 else {
                self = .single(opaque)
                return
            }
            let bits = opaque & ~Self.batchFlag
            self = .batchMember(batch: bits >> Self.indexBits, index: Int(bits & UInt(Self.maxBatchCount - 1)))
        }
    }

    /// A batch send: its reports as they arrive, and its sender once it waits.
    private final class Batch: @unchecked Sendable {
        // @unchecked: only touched under the producer's state lock. A class, so recording one
        // report never copies the others.
        var results: [Result<Delivered, KafkaError>?]
        var remaining: Int
        var sender: CheckedContinuation<[Result<Delivered, KafkaError>?], Never>?

        init(count: Int) {
            results = Array(repeating: nil, count: count)
            remaining = count
        }
    }

    /// Where a record went; ``send(_:)`` adds the topic it already knows.
    private struct Delivered: Sendable {
        var partition: Int32
        var offset: Int64
    }

    /// When a timed send stops waiting.
    private struct Deadline {
        var instant: ContinuousClock.Instant
        var timeout: Duration
        var id: UInt
    }

    private struct State {
        var lastID: UInt = 0
        var slots: [UInt: Slot] = [:]
        var batches: [UInt: Batch] = [:]
        /// Timed sends by deadline; the poll thread fails those still waiting when theirs passes.
        /// Entries before `firstDeadline` have passed; they are dropped in bulk, not one shift each.
        var deadlines: [Deadline] = []
        var firstDeadline = 0
        var isShutDown = false

        /// Keeps ``deadlines`` sorted; sends share a timeout in practice, so the new one goes last.
        mutating func add(_ deadline: Deadline) {
            var index = deadlines.endIndex
            while index > firstDeadline, deadlines[index - 1].instant > deadline.instant { index -= 1 }
            deadlines.insert(deadline, at: index)
        }

        /// Marks the deadlines up to `now` as passed and returns them.
        mutating func takeDeadlines(upTo now: ContinuousClock.Instant) -> ArraySlice<Deadline> {
            let start = firstDeadline
            while firstDeadline < deadlines.count, deadlines[firstDeadline].instant <= now { firstDeadline += 1 }
            let passed = deadlines[start..<firstDeadline]
            if firstDeadline > 64, firstDeadline * 2 > deadlines.count {
                deadlines.removeFirst(firstDeadline)
                firstDeadline = 0
            }
            return passed
        }
    }

    let configuration: KafkaProducerConfiguration
    let logger: Logger
    let client: RDKafkaClient
    private let state: LockedState<State>
    private let fatal: FatalErrorSignal
    private let pollThread: PollThread

    /// Creates the producer and starts its poll thread.
    /// - Throws: ``KafkaError`` with ``KafkaError/Code/invalidConfiguration`` naming a bad property.
    public init(configuration: KafkaProducerConfiguration, logger: Logger) throws(KafkaError) {
        var clientLogger = logger
        clientLogger[metadataKey: "kafka.client"] = .string(configuration.client.clientID)
        clientLogger[metadataKey: "kafka.client_type"] = "producer"
        let logger = clientLogger
        let state = LockedState(State())
        let fatal = FatalErrorSignal()
        let callbacks = ClientCallbacks(
            logger: logger,
            onDelivery: { message in Self.deliver(message, to: state) },
            onError: { [logger] error in Self.record(error, in: fatal, logger: logger) }
        )
        let client = try RDKafkaClient(type: RD_KAFKA_PRODUCER, properties: configuration.properties, callbacks: callbacks)
        self.configuration = configuration
        self.logger = logger
        self.client = client
        self.state = state
        self.fatal = fatal
        // Deadlines are checked between polls, so a timed send gives up at most one poll timeout late:
        // one thread for every deadline instead of a timer per send.
        self.pollThread = PollThread(name: "kafka-producer-poll") {
            _ = rd_kafka_poll(client.handle, 100)
            Self.expireDeadlines(in: state, now: .now)
        }
    }

    deinit { pollThread.stop() }

    /// Sends a record and waits until the broker acknowledged it or librdkafka gave up
    /// (`message.timeout.ms`).
    ///
    /// While librdkafka's local queue is full, waits for room. Cancelling the calling task stops the
    /// wait with `CancellationError`, but a record already handed to librdkafka may still be written.
    /// - Returns: The partition and offset the broker stored the record at.
    /// - Throws: ``KafkaError`` from the delivery report (with ``KafkaError/persistence``), or the
    ///   producer's fatal error, or ``KafkaError/Code/shutDown`` after ``shutdown()``.
    public func send(_ record: ProducerRecord) async throws -> DeliveryReport {
        try await send(record, deadline: nil)
    }

    /// Sends a record, giving up waiting after `timeout` (a Swift-side deadline on top of
    /// `message.timeout.ms`).
    /// - Throws: ``KafkaError/Code/timedOut`` with ``KafkaError/Persistence/possiblyPersisted`` when the
    ///   deadline passed first, or whatever ``send(_:)`` throws.
    public func send(_ record: ProducerRecord, timeout: Duration) async throws -> DeliveryReport {
        try await send(record, deadline: (ContinuousClock.now + timeout, timeout))
    }

    /// One awaited send, in the caller's task. The deadline is enforced by the poll thread, not by a
    /// timer or a second task per send, since ingest pays for this on every request.
    private func send(_ record: ProducerRecord, deadline: (instant: ContinuousClock.Instant, timeout: Duration)?) async throws -> DeliveryReport {
        let id = try state.withLock { state throws(KafkaError) -> UInt in
            if let fatal = fatal.error { throw fatal }
            if state.isShutDown { throw KafkaError.shutDown("producer") }
            state.lastID += 1
            state.slots[state.lastID] = .enqueued
            if let deadline { state.add(Deadline(instant: deadline.instant, timeout: deadline.timeout, id: state.lastID)) }
            return state.lastID
        }
        do {
            try await enqueueWaitingForRoom(record, as: .single(id), deadline: deadline)
        } catch {
            _ = state.withLock { $0.slots.removeValue(forKey: id) }
            throw error
        }
        let state = state
        let delivered = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<Delivered, any Error>? in
                    switch state.slots[id] {
                    case .enqueued:
                        state.slots[id] = .awaiting(continuation)
                        return nil
                    case .delivered(let result):
                        state.slots[id] = nil
                        return result.mapError { $0 }
                    case .awaiting, nil:
                        return .failure(CancellationError())
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let waiting = state.withLock { state -> CheckedContinuation<Delivered, any Error>? in
                guard case .awaiting(let continuation) = state.slots.removeValue(forKey: id) else { return nil }
                return continuation
            }
            waiting?.resume(throwing: CancellationError())
        }
        return DeliveryReport(topic: record.topic, partition: delivered.partition, offset: delivered.offset)
    }

    /// Hands a record to librdkafka, waiting while its local queue is full (until `deadline`, if any).
    private func enqueueWaitingForRoom(
        _ record: ProducerRecord,
        as ticket: Ticket,
        deadline: (instant: ContinuousClock.Instant, timeout: Duration)? = nil
    ) async throws {
        while let error = enqueue(record, as: ticket) {
            guard error.code == .queueFull else { throw error }
            if let deadline, ContinuousClock.now >= deadline.instant { throw Self.timedOut(after: deadline.timeout) }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Fails the timed sends whose deadline passed before their delivery report came.
    private static func expireDeadlines(in state: LockedState<State>, now: ContinuousClock.Instant) {
        let expired = state.withLock { state -> [(CheckedContinuation<Delivered, any Error>, Duration)] in
            var expired: [(CheckedContinuation<Delivered, any Error>, Duration)] = []
            for deadline in state.takeDeadlines(upTo: now) {
                switch state.slots[deadline.id] {
                case .awaiting(let continuation):
                    state.slots[deadline.id] = nil
                    expired.append((continuation, deadline.timeout))
                case .enqueued:
                    // Its sender has not suspended yet: it finds the timeout when it does.
                    state.slots[deadline.id] = .delivered(.failure(timedOut(after: deadline.timeout)))
                case .delivered, nil:
                    break
                }
            }
            return expired
        }
        for (continuation, timeout) in expired { continuation.resume(throwing: timedOut(after: timeout)) }
    }

    /// Hands a record to librdkafka and returns without waiting for the broker's answer.
    ///
    /// For records sent inside a transaction: ``commitTransaction(timeout:)`` waits for every one of them
    /// and fails, requiring an abort, if any was not delivered, so their delivery reports add nothing.
    /// While librdkafka's local queue is full, waits for room.
    /// - Throws: ``KafkaError`` when librdkafka refuses the record (e.g. too large), the producer's fatal
    ///   error, or ``KafkaError/Code/shutDown`` after ``shutdown()``.
    public func enqueue(_ record: ProducerRecord) async throws {
        try state.withLock { state throws(KafkaError) in
            if let fatal = fatal.error { throw fatal }
            if state.isShutDown { throw KafkaError.shutDown("producer") }
        }
        try await enqueueWaitingForRoom(record, as: .unawaited)
    }

    private static func timedOut(after timeout: Duration) -> KafkaError {
        KafkaError(
            code: .timedOut,
            message: "no acknowledgement within \(timeout)",
            isRetriable: true,
            persistence: .possiblyPersisted
        )
    }

    /// Sends records in one go and waits until each was acknowledged or failed: one suspension for the
    /// whole batch, for bulk work (replays, redrives, benchmarks).
    ///
    /// Records are handed to librdkafka in order (waiting for room when its queue is full); each
    /// outcome comes back at its record's index. Not cancellable: `message.timeout.ms` bounds the wait.
    /// - Throws: The producer's fatal error, or ``KafkaError/Code/shutDown``, before anything is sent.
    public func send(_ records: [ProducerRecord]) async throws -> [Result<DeliveryReport, KafkaError>] {
        guard !records.isEmpty else { return [] }
        guard records.count <= Ticket.maxBatchCount else {
            var results: [Result<DeliveryReport, KafkaError>] = []
            for first in stride(from: 0, to: records.count, by: Ticket.maxBatchCount) {
                results += try await send(Array(records[first..<min(first + Ticket.maxBatchCount, records.count)]))
            }
            return results
        }
        let batchID = try state.withLock { state throws(KafkaError) -> UInt in
            if let fatal = fatal.error { throw fatal }
            if state.isShutDown { throw KafkaError.shutDown("producer") }
            state.lastID += 1
            state.batches[state.lastID] = Batch(count: records.count)
            return state.lastID
        }
        for (index, record) in records.enumerated() {
            let ticket = Ticket.batchMember(batch: batchID, index: index)
            while let error = enqueue(record, as: ticket) {
                guard error.code == .queueFull else {
                    Self.complete(ticket, with: .failure(error), in: state)
                    break
                }
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
        let results = await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [Result<Delivered, KafkaError>?]? in
                // Gone: shutdown failed the batch's remaining records.
                guard let batch = state.batches[batchID] else { return Array(repeating: nil, count: records.count) }
                if batch.remaining == 0 {
                    state.batches[batchID] = nil
                    return batch.results
                }
                batch.sender = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
        return zip(records, results).map { record, result in
            (result ?? .failure(KafkaError.shutDown("producer"))).map {
                DeliveryReport(topic: record.topic, partition: $0.partition, offset: $0.offset)
            }
        }
    }

    /// Waits until every record handed to librdkafka got its delivery report.
    /// - Throws: ``KafkaError/Code/timedOut`` when records are still outstanding after `timeout`.
    public func flush(timeout: Duration) async throws {
        let client = client
        try await runBlocking {
            let handle = client.handle
            try KafkaError.check(rd_kafka_flush(handle, Int32(clamping: timeout.milliseconds)), "flush")
        }
    }

    /// What librdkafka still holds for this producer (`rd_kafka_outq_len`): records handed over and not yet
    /// reported on, plus pending requests and events. Zero once everything sent was acknowledged or failed.
    public var outstandingCount: Int { Int(rd_kafka_outq_len(client.handle)) }

    /// The fatal error that made this producer unusable, if any.
    public var fatalError: KafkaError? { fatal.error }

    /// Waits for graceful shutdown, then flushes and stops. Ends early, throwing, on a fatal error.
    public func run() async throws {
        try await fatal.runUntilShutdown { await shutdown() }
    }

    /// Stops taking records, flushes for up to ``KafkaProducerConfiguration/shutdownFlushTimeout``,
    /// purges what is left (those sends fail with a purge error), and stops polling. Idempotent.
    public func shutdown() async {
        let isFirst = state.withLock { state in
            defer { state.isShutDown = true }
            return !state.isShutDown
        }
        guard isFirst else { return }
        do {
            try await flush(timeout: configuration.shutdownFlushTimeout)
        } catch {
            logger.warning("records still outstanding at shutdown; purging them", metadata: ["error": "\(error)"])
            rd_kafka_purge(client.handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            _ = try? await flush(timeout: .seconds(1))
        }
        try? await runBlocking { [pollThread] in pollThread.stop() }
        let leftovers = state.withLock { state in
            defer { state.slots = [:] }
            return state.slots.values.compactMap { slot -> CheckedContinuation<Delivered, any Error>? in
                if case .awaiting(let continuation) = slot { return continuation }
                return nil
            }
        }
        for continuation in leftovers { continuation.resume(throwing: KafkaError.shutDown("producer")) }
        let batchSenders = state.withLock { state in
            defer { state.batches = [:] }
            return state.batches.values.compactMap { batch in batch.sender.map { ($0, batch.results) } }
        }
        for (sender, results) in batchSenders { sender.resume(returning: results) }
    }

    /// Hands a record to librdkafka (copying key, value and headers); `nil` on success.
    private func enqueue(_ record: ProducerRecord, as ticket: Ticket) -> KafkaError? {
        var headers: OpaquePointer?
        if !record.headers.isEmpty {
            headers = rd_kafka_headers_new(record.headers.count)
            for header in record.headers {
                withOptionalBytes(header.value) { pointer, count in
                    _ = rd_kafka_header_add(headers, header.key, -1, pointer, count)
                }
            }
        }
        let error: OpaquePointer? = record.topic.withCString { topic in
            withOptionalBytes(record.key) { keyPointer, keyCount in
                withOptionalBytes(record.value) { valuePointer, valueCount in
                    // On the stack: this runs once per record.
                    withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { values in
                        var count = 0
                        func append(_ type: rd_kafka_vtype_t, _ set: (inout rd_kafka_vu_t) -> Void) {
                            var value = rd_kafka_vu_t()
                            value.vtype = type
                            set(&value)
                            (values.baseAddress! + count).initialize(to: value)
                            count += 1
                        }
                        append(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topic }
                        if let partition = record.partition { append(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition } }
                        if let keyPointer {
                            append(RD_KAFKA_VTYPE_KEY) {
                                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: keyPointer)
                                $0.u.mem.size = keyCount
                            }
                        }
                        append(RD_KAFKA_VTYPE_VALUE) {
                            $0.u.mem.ptr = valuePointer.map { UnsafeMutableRawPointer(mutating: $0) }
                            $0.u.mem.size = valueCount
                        }
                        if let headers { append(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers } }
                        append(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
                        append(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = UnsafeMutableRawPointer(bitPattern: ticket.opaque) }
                        return rd_kafka_produceva(client.handle, values.baseAddress, count)
                    }
                }
            }
        }
        guard let error else { return nil }
        // librdkafka owns the headers only once the record is accepted.
        if let headers { rd_kafka_headers_destroy(headers) }
        return KafkaError.consuming(error, "send to \(record.topic)")
    }

    /// Runs on the poll thread for every record's delivery report.
    private static func deliver(_ message: UnsafePointer<rd_kafka_message_t>, to state: LockedState<State>) {
        let ticket = Ticket(opaque: UInt(bitPattern: message.pointee._private))
        let result: Result<Delivered, KafkaError>
        if let error = KafkaError.from(message.pointee.err) {
            let persistence: KafkaError.Persistence =
                switch rd_kafka_message_status(message) {
                case RD_KAFKA_MSG_STATUS_NOT_PERSISTED: .notPersisted
                case RD_KAFKA_MSG_STATUS_PERSISTED: .persisted
                default: .possiblyPersisted
                }
            result = .failure(
                KafkaError(
                    code: error.code,
                    message: error.message,
                    isRetriable: error.isRetriable,
                    isFatal: error.isFatal,
                    persistence: persistence
                )
            )
        } else {
            result = .success(Delivered(partition: message.pointee.partition, offset: message.pointee.offset))
        }
        complete(ticket, with: result, in: state)
    }

    private enum Wakeup {
        case sender(CheckedContinuation<Delivered, any Error>)
        case batchSender(CheckedContinuation<[Result<Delivered, KafkaError>?], Never>, [Result<Delivered, KafkaError>?])
    }

    /// Records a record's outcome and wakes whoever waits for it.
    private static func complete(_ ticket: Ticket, with result: Result<Delivered, KafkaError>, in state: LockedState<State>) {
        let wakeup = state.withLock { state -> Wakeup? in
            switch ticket {
            case .single(let id):
                switch state.slots[id] {
                case .enqueued:
                    state.slots[id] = .delivered(result)
                    return nil
                case .awaiting(let continuation):
                    state.slots[id] = nil
                    return .sender(continuation)
                case .delivered, nil:
                    return nil  // the sender stopped waiting
                }
            case .batchMember(let batchID, let index):
                guard let batch = state.batches[batchID] else { return nil }  // failed at shutdown
                batch.results[index] = result
                batch.remaining -= 1
                guard batch.remaining == 0, let sender = batch.sender else { return nil }
                state.batches[batchID] = nil
                return .batchSender(sender, batch.results)
            }
        }
        switch wakeup {
        case .sender(let continuation): continuation.resume(with: result.mapError { $0 })
        case .batchSender(let continuation, let results): continuation.resume(returning: results)
        case nil: break
        }
    }

    private static func record(_ error: KafkaError, in fatal: FatalErrorSignal, logger: Logger) {
        guard error.isFatal else {
            logger.warning("Kafka producer error", metadata: ["error": "\(error)"])
            return
        }
        logger.error("Kafka producer failed fatally", metadata: ["error": "\(error)"])
        fatal.raise(error)
    }
}

/// Calls `body` with a pointer to the bytes (or `nil`) and their count.
func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> R) -> R {
    guard let bytes else { return body(nil, 0) }
    return bytes.withUnsafeBytes { body($0.baseAddress, $0.count) }
}
