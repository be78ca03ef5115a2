import Crdkafka
import Dispatch
import Glibc
import Logging
import ServiceLifecycle
import Synchronization

/// A Kafka consumer: a group member (`cooperative-sticky`) or a reader of explicitly assigned
/// partitions, delivering records through ``records``.
///
/// A dedicated thread polls librdkafka from creation until ``shutdown()``, so rebalance callbacks
/// run there and never on Swift's cooperative pool. Fetched messages wait in a small buffer, as
/// librdkafka made them; the reader of ``records`` copies each into a ``ConsumerRecord`` as it takes it
/// (so a record's memory is allocated and, usually, freed on the same thread). When the buffer is full,
/// polling pauses until ``records`` is read again (as with any Kafka consumer, keep reading within
/// `max.poll.interval.ms`).
///
/// Offsets: only what you store with ``storeOffset(of:)`` (records you finished) is committed,
/// in the background (`enable.auto.commit`), on revoke, on ``commit()`` and on shutdown.
///
/// ```swift
/// let consumer = try KafkaConsumer(configuration: config, logger: logger, rebalance: .init(
///     onAssigned: { partitions in … },
///     onRevoked: { partitions, isLost in /* finish or drop in-flight work, store offsets */ }))
/// try consumer.subscribe(topics: ["calypso.webhooks.v1"])
/// for try await record in consumer.records {
///     try await process(record)
///     try consumer.storeOffset(of: record)
/// }
/// ```
public final class KafkaConsumer: Service, Sendable {
    /// Synchronous hooks run on the poll thread while librdkafka rebalances.
    public struct RebalanceHandler: Sendable {
        /// After partitions were added to the assignment (records of them follow). Not called for an assignment
        /// that arrives once ``shutdown()`` has begun (``onRevoked`` may then name partitions it never announced).
        public var onAssigned: @Sendable (_ partitions: [TopicPartition]) -> Void
        /// Before partitions leave the assignment: finish or drop in-flight work for them and store
        /// their offsets; the consumer then commits (unless `isLost`, when another member may already
        /// own them) and unassigns. Records of them not yet handed out are dropped.
        public var onRevoked: @Sendable (_ partitions: [TopicPartition], _ isLost: Bool) -> Void

        public init(
            onAssigned: @escaping @Sendable ([TopicPartition]) -> Void = { _ in },
            onRevoked: @escaping @Sendable ([TopicPartition], Bool) -> Void = { _, _ in }
        ) {
            self.onAssigned = onAssigned
            self.onRevoked = onRevoked
        }
    }

    /// A fetched message the poll thread handed over. The buffer owns it (and destroys it if dropped) until a
    /// reader takes it, copies it into a record and destroys it.
    struct BufferedMessage: @unchecked Sendable {
        // @unchecked: the message has one owner at a time, handed over under the state's lock.
        let message: UnsafeMutablePointer<rd_kafka_message_t>
        let epoch: Int
        /// Set when a reader takes it.
        var topic = ""
    }

    struct State {
        var buffer: [BufferedMessage] = []
        var head = 0
        /// Names of the topics of the messages readers take.
        var topicNames = TopicNames()
        var waiter: CheckedContinuation<BufferedMessage?, any Error>?
        var isPollerWaitingForRoom = false
        var isClosed = false
        /// ``shutdown()`` has begun: an assignment that arrives now is taken (librdkafka needs it) but not announced.
        var isClosing = false
        var fatalError: KafkaError?
        var assignment: Set<TopicPartition> = []
        /// Bumped when a partition's records in flight from the poll thread become stale (seek, revoke).
        var epochs: [TopicPartition: Int] = [:]
        /// Epochs of the partitions assigned during the poll thread's current call, for it to adopt.
        var epochsAtAssignment: [TopicPartition: Int] = [:]

        var bufferedCount: Int { buffer.count - head }

        mutating func takeFirst() -> BufferedMessage? {
            guard head < buffer.count else { return nil }
            var first = buffer[head]
            first.topic = topicNames.name(of: first.message.pointee.rkt)
            head += 1
            if head == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                head = 0
            }
            return first
        }

        /// The buffered messages' partitions, in buffer order.
        func bufferedPartitions() -> [TopicPartition] {
            var names = TopicNames()
            return buffer[head...].map { TopicPartition(names.name(of: $0.message.pointee.rkt), $0.message.pointee.partition) }
        }

        mutating func dropBuffered(of partitions: Set<TopicPartition>) {
            for partition in partitions { epochs[partition, default: 0] += 1 }
            guard !partitions.isEmpty, bufferedCount > 0 else { return }
            var kept: [BufferedMessage] = []
            for (buffered, partition) in zip(buffer[head...], bufferedPartitions()) {
                if partitions.contains(partition) {
                    rd_kafka_message_destroy(buffered.message)
                } else {
                    kept.append(buffered)
                }
            }
            buffer = kept
            head = 0
        }

        mutating func dropAllBuffered() {
            for buffered in buffer[head...] { rd_kafka_message_destroy(buffered.message) }
            buffer = []
            head = 0
        }
    }

    /// Messages handed from the poll thread before it pauses.
    static let bufferLimit = 2000

    let configuration: KafkaConsumerConfiguration
    let logger: Logger
    let client: RDKafkaClient
    let state: LockedState<State>
    private let fatal: FatalErrorSignal
    private let roomAvailable = DispatchSemaphore(value: 0)
    /// Held by the poll thread while it polls and hands over, and by ``seek(_:timeout:)``: a seek never
    /// overlaps a poll call, so what a poll returns is either wholly before it (and dropped) or after it.
    private let pollGate = DispatchSemaphore(value: 1)
    private let pollThread: LockedState<PollThread?>
    let assignments = AssignmentCount()

    /// Creates the consumer and starts polling. Nothing is read before ``subscribe(topics:)`` or
    /// ``assign(_:)``.
    /// - Throws: ``KafkaError`` naming a bad property.
    public init(
        configuration: KafkaConsumerConfiguration,
        logger: Logger,
        rebalance: RebalanceHandler = RebalanceHandler()
    ) throws(KafkaError) {
        var clientLogger = logger
        clientLogger[metadataKey: "kafka.client"] = .string(configuration.client.clientID)
        clientLogger[metadataKey: "kafka.client_type"] = "consumer"
        if let groupID = configuration.groupID { clientLogger[metadataKey: "kafka.group"] = .string(groupID) }
        let logger = clientLogger
        let state = LockedState(State())
        let fatal = FatalErrorSignal()
        let commitsOnRevoke = configuration.commitsOnRevoke && configuration.groupID != nil
        let assignments = self.assignments
        let callbacks = ClientCallbacks(
            logger: logger,
            onError: { [logger] error in Self.record(error, in: state, fatal: fatal, logger: logger) },
            onRebalance: { [logger] rk, event, list in
                Self.rebalance(
                    rk, event, list, state: state, handler: rebalance, assignments: assignments,
                    commitsOnRevoke: commitsOnRevoke, logger: logger
                )
            }
        )
        let client = try RDKafkaClient(type: RD_KAFKA_CONSUMER, properties: configuration.properties, callbacks: callbacks)
        rd_kafka_poll_set_consumer(client.handle)
        self.configuration = configuration
        self.logger = logger
        self.client = client
        self.state = state
        self.fatal = fatal
        self.pollThread = LockedState(nil)
        let thread = PollThread(name: "kafka-consumer-poll") { [roomAvailable, pollGate] in
            Self.pollOnce(
                client, state: state, assignments: assignments, fatal: fatal, roomAvailable: roomAvailable,
                pollGate: pollGate, logger: logger
            )
        }
        pollThread.withLock { $0 = thread }
    }

    deinit {
        pollThread.withLock { $0 }?.stop()
        // librdkafka must get every message back before the client is destroyed.
        state.withLock { $0.dropAllBuffered() }
    }

    // MARK: - Reading

    /// The records, in partition order, until ``shutdown()``; throws the consumer's fatal error.
    /// Iterate it from one task at a time.
    public var records: Records { Records(consumer: self) }

    public struct Records: AsyncSequence, Sendable {
        public typealias Element = ConsumerRecord
        let consumer: KafkaConsumer

        public func makeAsyncIterator() -> Iterator { Iterator(consumer: consumer) }

        public struct Iterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer

            public func next() async throws -> ConsumerRecord? {
                guard let buffered = try await consumer.nextMessage() else { return nil }
                var record = ConsumerRecord(copying: buffered.message, topic: buffered.topic)
                rd_kafka_message_destroy(buffered.message)
                record.epoch = buffered.epoch
                return record
            }
        }
    }

    /// Takes the next buffered message (the caller destroys it), waiting for one.
    private func nextMessage() async throws -> BufferedMessage? {
        enum Next {
            case message(BufferedMessage)
            case end
            case failure(KafkaError)
            case wait
        }
        func take(_ state: inout State) -> Next {
            if let fatal = state.fatalError { return .failure(fatal) }
            if let first = state.takeFirst() { return .message(first) }
            return state.isClosed ? .end : .wait
        }
        let (next, wakePoller) = state.withLock { state in
            let next = take(&state)
            // Only the call that wakes the poller clears the flag; clearing it earlier would leave the
            // poller waiting out its whole timeout with the buffer already drained.
            let wakePoller = state.isPollerWaitingForRoom && state.bufferedCount < Self.bufferLimit / 2
            if wakePoller { state.isPollerWaitingForRoom = false }
            return (next, wakePoller)
        }
        if wakePoller { roomAvailable.signal() }
        switch next {
        case .message(let buffered): return buffered
        case .end: return nil
        case .failure(let error): throw error
        case .wait: break
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Next in
                    let next = take(&state)
                    if case .wait = next {
                        if Task.isCancelled { return .end }
                        state.waiter = continuation
                    }
                    return next
                }
                switch ready {
                case .message(let buffered): continuation.resume(returning: buffered)
                case .end: continuation.resume(returning: nil)
                case .failure(let error): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            state.withLock { $0.waiter.take() }?.resume(returning: nil)
        }
    }

    /// One turn of the poll thread: a blocking poll, then whatever else is ready, handed over at once.
    private static func pollOnce(
        _ client: RDKafkaClient,
        state: LockedState<State>,
        assignments: AssignmentCount,
        fatal: FatalErrorSignal,
        roomAvailable: DispatchSemaphore,
        pollGate: DispatchSemaphore,
        logger: Logger
    ) {
        pollGate.wait()
        var isGateHeld = true
        defer { if isGateHeld { pollGate.signal() } }
        // Assignments run only inside this thread's poll calls, so none is pending between two turns.
        var epochs = state.withLock { state in
            state.epochsAtAssignment.removeAll()
            return state.epochs
        }
        var assignmentsSeen = assignments.value.load(ordering: .acquiring)
        guard let first = rd_kafka_consumer_poll(client.handle, 100) else { return }
        var batch: [UnsafeMutablePointer<rd_kafka_message_t>] = []
        var mustWait = false
        var names = TopicNames()
        var message: UnsafeMutablePointer<rd_kafka_message_t>? = first
        while let current = message {
            // Rebalance callbacks run inside the poll call that returned `current`. When that call assigned
            // partitions, `current` may already be a record of the new assignment: hand over what was read
            // before under the old epochs, then judge the rest by the epochs of the new assignment (judging
            // them by the old ones would drop records the runtime never sees, and commit past them).
            let assignmentsNow = assignments.value.load(ordering: .acquiring)
            if assignmentsNow != assignmentsSeen {
                assignmentsSeen = assignmentsNow
                mustWait = handOver(batch, epochs: epochs, names: &names, state: state) || mustWait
                batch.removeAll(keepingCapacity: true)
                state.withLock { state in
                    epochs.merge(state.epochsAtAssignment) { _, assigned in assigned }
                    state.epochsAtAssignment.removeAll()
                }
            }
            if let error = KafkaError.from(current.pointee.err, "consume") {
                if error.code == .fatal {
                    var cause = [CChar](repeating: 0, count: 512)
                    let code = rd_kafka_fatal_error(client.handle, &cause, cause.count)
                    record(KafkaError(code: .init(code), message: string(fromCBuffer: cause), isFatal: true), in: state, fatal: fatal, logger: logger)
                } else {
                    logger.warning("Kafka consumer error", metadata: ["error": "\(error)"])
                }
                rd_kafka_message_destroy(current)
            } else {
                batch.append(current)
            }
            message = batch.count < 1000 ? rd_kafka_consumer_poll(client.handle, 0) : nil
        }
        mustWait = handOver(batch, epochs: epochs, names: &names, state: state) || mustWait
        pollGate.signal()
        isGateHeld = false
        // Back-pressure: the reader is behind. Wait (bounded, so stopping stays prompt).
        if mustWait { _ = roomAvailable.wait(timeout: .now() + .milliseconds(100)) }
    }

    /// Buffers the messages of `batch` that are still current (their partition assigned, not sought or
    /// revoked since `epochs` was taken), handing the first to a waiting reader, and destroys the others;
    /// returns whether the buffer is full.
    private static func handOver(
        _ batch: [UnsafeMutablePointer<rd_kafka_message_t>],
        epochs: [TopicPartition: Int],
        names: inout TopicNames,
        state: LockedState<State>
    ) -> Bool {
        guard !batch.isEmpty else { return false }
        // Messages arrive in runs of one partition: decide once per run, not once per message.
        var fresh: [BufferedMessage] = []
        var stale: [UnsafeMutablePointer<rd_kafka_message_t>] = []
        fresh.reserveCapacity(batch.count)
        let (handOver, isFull) = state.withLock { state in
            var run: (topic: OpaquePointer, partition: Int32, epoch: Int?)?
            for message in batch {
                let m = message.pointee
                if run?.topic != m.rkt || run?.partition != m.partition {
                    let partition = TopicPartition(names.name(of: m.rkt), m.partition)
                    let isFresh = state.assignment.contains(partition) && state.epochs[partition] == epochs[partition]
                    run = (m.rkt, m.partition, isFresh ? epochs[partition, default: 0] : nil)
                }
                if let epoch = run?.epoch {
                    fresh.append(BufferedMessage(message: message, epoch: epoch))
                } else {
                    stale.append(message)
                }
            }
            state.buffer.append(contentsOf: fresh)
            var handOver: (CheckedContinuation<BufferedMessage?, any Error>, BufferedMessage)?
            if let waiter = state.waiter, let first = state.takeFirst() {
                state.waiter = nil
                handOver = (waiter, first)
            }
            state.isPollerWaitingForRoom = state.bufferedCount >= bufferLimit
            return (handOver, state.isPollerWaitingForRoom)
        }
        for message in stale { rd_kafka_message_destroy(message) }
        if let (waiter, first) = handOver { waiter.resume(returning: first) }
        return isFull
    }

    /// Whether `record`, read from ``records``, still belongs to its partition's current assignment: `false` once
    /// the partition was revoked (even if it was assigned back since) or sought after the record was handed
    /// out, when the partition's records come again from its committed or sought offset.
    public func isCurrent(_ record: ConsumerRecord) -> Bool {
        let partition = record.topicPartition
        return state.withLock { $0.assignment.contains(partition) && $0.epochs[partition, default: 0] == record.epoch }
    }

    // MARK: - Subscription and assignment

    /// Joins the group and follows these topics. Requires a group id.
    public func subscribe(topics: [String]) throws(KafkaError) {
        let list = PartitionList.make(topics.map { TopicPartitionOffset($0, -1, offset: TopicPartitionOffset.invalid) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_subscribe(client.handle, list), "subscribe to \(topics)")
    }

    /// Reads exactly these partitions from these offsets, outside any group rebalancing
    /// (e.g. `TopicPartitionOffset.beginning` to rebuild state from a topic).
    public func assign(_ partitions: [TopicPartitionOffset]) throws(KafkaError) {
        try PartitionList.with(partitions) { list throws(KafkaError) in
            try KafkaError.check(rd_kafka_assign(client.handle, list), "assign \(partitions)")
        }
        state.withLock { state in
            state.dropBuffered(of: state.assignment)
            state.assignment = Set(partitions.map(\.topicPartition))
        }
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try KafkaError.check(rd_kafka_assignment(client.handle, &list), "assignment")
        guard let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return PartitionList.elements(list).map(\.topicPartition)
    }

    // MARK: - Offsets

    /// Marks a processed record: its next offset will be committed.
    /// - Returns: `false` when the partition is no longer assigned (another member owns it now, and
    ///   will process the record again).
    @discardableResult
    public func storeOffset(of record: ConsumerRecord) throws(KafkaError) -> Bool {
        try storeOffsets([record.nextOffset])
    }

    /// Stores next-record offsets to be committed. See ``storeOffset(of:)``.
    @discardableResult
    public func storeOffsets(_ offsets: [TopicPartitionOffset]) throws(KafkaError) -> Bool {
        try PartitionList.with(offsets) { list throws(KafkaError) -> Bool in
            let result = rd_kafka_offsets_store(client.handle, list)
            let error = KafkaError.from(result, "store offsets") ?? PartitionList.firstError(list, "store offset")
            guard let error else { return true }
            if error.code == .state || error.code.rdKafka == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION { return false }
            throw error
        }
    }

    /// Commits the stored offsets now and waits for the answer. Nothing to commit is success.
    public func commit() async throws {
        let client = client
        try await runBlocking {
            let handle = client.handle
            let result = rd_kafka_commit(handle, nil, 0)
            if result != RD_KAFKA_RESP_ERR__NO_OFFSET { try KafkaError.check(result, "commit") }
        }
    }

    /// Commits these next-record offsets now (not the stored ones) and waits for the answer.
    public func commit(_ offsets: [TopicPartitionOffset]) async throws {
        let client = client
        try await runBlocking {
            let handle = client.handle
            try PartitionList.with(offsets) { list in
                try KafkaError.check(rd_kafka_commit(handle, list, 0), "commit")
                if let error = PartitionList.firstError(list, "commit") { throw error }
            }
        }
    }

    /// The group's committed offsets for these partitions (``TopicPartitionOffset/invalid`` when none).
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws -> [TopicPartitionOffset] {
        let client = client
        return try await runBlocking {
            let handle = client.handle
            let list = PartitionList.make(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_committed(handle, list, Int32(clamping: timeout.milliseconds)), "committed offsets")
            return PartitionList.elements(list)
        }
    }

    /// The offset of the next record the reader of ``records`` will get from each partition.
    ///
    /// librdkafka's own position also counts the records the poll thread has fetched into the buffer but
    /// nobody has read yet; for a partition with buffered records, the first one's offset is the answer.
    public func position(_ partitions: [TopicPartition]) async throws -> [TopicPartitionOffset] {
        let client = client
        let state = state
        let pollGate = pollGate
        return try await runBlocking {
            // With the poll thread out of librdkafka, a fetched record is in the buffer or not handed out yet.
            pollGate.wait()
            defer { pollGate.signal() }
            let list = PartitionList.make(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_position(client.handle, list), "position")
            let positions = PartitionList.elements(list)
            return state.withLock { state in
                var firstBuffered: [TopicPartition: Int64] = [:]
                for (buffered, partition) in zip(state.buffer[state.head...], state.bufferedPartitions())
                where firstBuffered[partition] == nil {
                    firstBuffered[partition] = buffered.message.pointee.offset
                }
                return positions.map { position in
                    firstBuffered[position.topicPartition].map { TopicPartitionOffset(position.topicPartition, offset: $0) } ?? position
                }
            }
        }
    }

    /// Moves the read position of assigned partitions; records fetched before are not delivered.
    public func seek(_ offsets: [TopicPartitionOffset], timeout: Duration = .seconds(10)) async throws {
        let client = client
        let state = state
        let pollGate = pollGate
        try await runBlocking {
            // With the poll thread out of librdkafka, nothing read before the seek is in flight: drop what
            // is buffered, and librdkafka itself discards older fetches once the seek returns.
            pollGate.wait()
            defer { pollGate.signal() }
            state.withLock { $0.dropBuffered(of: Set(offsets.map(\.topicPartition))) }
            let handle = client.handle
            try PartitionList.with(offsets) { list in
                if let error = KafkaError.consuming(
                    rd_kafka_seek_partitions(handle, list, Int32(clamping: timeout.milliseconds)),
                    "seek"
                ) {
                    throw error
                }
                if let error = PartitionList.firstError(list, "seek") { throw error }
            }
        }
    }

    /// Stops fetching these partitions (records already buffered are still delivered).
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        let list = PartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_pause_partitions(client.handle, list), "pause")
        if let error = PartitionList.firstError(list, "pause") { throw error }
    }

    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        let list = PartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_resume_partitions(client.handle, list), "resume")
        if let error = PartitionList.firstError(list, "resume") { throw error }
    }

    /// Low and high watermarks of a partition.
    public func watermarks(_ partition: TopicPartition, timeout: Duration = .seconds(10)) async throws -> (low: Int64, high: Int64) {
        let client = client
        return try await runBlocking { try client.watermarks(partition, timeout: timeout) }
    }

    /// The fatal error that made this consumer unusable, if any.
    public var fatalError: KafkaError? { state.withLock { $0.fatalError } }

    // MARK: - Lifecycle

    /// Waits for graceful shutdown (or a fatal error), then ``shutdown()``.
    public func run() async throws {
        try await fatal.runUntilShutdown { await shutdown() }
    }

    /// Stops polling, leaves the group (running the revoke hook, committing stored offsets) and ends
    /// ``records``. Idempotent.
    public func shutdown() async {
        guard let thread = pollThread.withLock({ $0.take() }) else { return }
        state.withLock { $0.isClosing = true }
        roomAvailable.signal()
        let client = client
        let logger = logger
        let assignments = assignments
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                Self.waitForFirstAssignmentIfJoining(client, assignments: assignments, logger: logger)
                thread.stop()
                if let error = KafkaError.from(rd_kafka_consumer_close(client.handle), "close") {
                    logger.warning("Kafka consumer did not close cleanly", metadata: ["error": "\(error)"])
                }
                continuation.resume()
            }
        }
        let waiter = state.withLock { state in
            state.isClosed = true
            return state.waiter.take()
        }
        waiter?.resume(returning: nil)
    }

    /// librdkafka before 2.3 aborts the process (`rd_kafka_sticky_assignor_state_destroy: Assertion
    /// 'assignor_state' failed`, librdkafka issue 4312) when a cooperative-sticky member is destroyed after its
    /// first JoinGroup but before its first assignment. So a member that has joined (it has a member id) waits,
    /// polling on, for that assignment, at most ``firstAssignmentWait``.
    private static func waitForFirstAssignmentIfJoining(_ client: RDKafkaClient, assignments: AssignmentCount, logger: Logger) {
        let deadline = ContinuousClock.now + firstAssignmentWait
        while assignments.value.load(ordering: .acquiring) == 0, hasMemberID(client) {
            guard ContinuousClock.now < deadline else {
                logger.warning("Closing a consumer that joined its group but was never assigned; librdkafka before 2.3 may abort")
                return
            }
            usleep(10_000)
        }
    }

    static let firstAssignmentWait = Duration.seconds(30)

    static func hasMemberID(_ client: RDKafkaClient) -> Bool {
        guard let memberID = rd_kafka_memberid(client.handle) else { return false }
        defer { rd_kafka_mem_free(client.handle, memberID) }
        return memberID.pointee != 0
    }

    private static func record(_ error: KafkaError, in state: LockedState<State>, fatal: FatalErrorSignal, logger: Logger) {
        guard error.isFatal else {
            logger.warning("Kafka consumer error", metadata: ["error": "\(error)"])
            return
        }
        logger.error("Kafka consumer failed fatally", metadata: ["error": "\(error)"])
        let waiter = state.withLock { state in
            state.fatalError = state.fatalError ?? error
            return state.waiter.take()
        }
        waiter?.resume(throwing: error)
        fatal.raise(error)
    }

    /// librdkafka's rebalance callback, on the poll thread (or the closing thread).
    private static func rebalance(
        _ rk: OpaquePointer,
        _ event: rd_kafka_resp_err_t,
        _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>,
        state: LockedState<State>,
        handler: RebalanceHandler,
        assignments: AssignmentCount,
        commitsOnRevoke: Bool,
        logger: Logger
    ) {
        let partitions = PartitionList.elements(list).map(\.topicPartition)
        let isCooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        switch event {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            logger.info("partitions assigned", metadata: ["kafka.partitions": "\(partitions)"])
            let error =
                isCooperative
                ? KafkaError.consuming(rd_kafka_incremental_assign(rk, list), "assign")
                : KafkaError.from(rd_kafka_assign(rk, list), "assign")
            if let error { logger.error("cannot take the assigned partitions", metadata: ["error": "\(error)"]) }
            state.withLock { state in
                state.assignment.formUnion(partitions)
                for partition in partitions {
                    let epoch = state.epochs[partition, default: 0]
                    state.epochs[partition] = epoch
                    state.epochsAtAssignment[partition] = epoch
                }
            }
            assignments.value.add(1, ordering: .releasing)
            // Announcing it while closing would have the owner prepare partitions it never reads (a worker
            // rebuilds its state), delaying the close.
            if !state.withLock(\.isClosing) { handler.onAssigned(partitions) }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let isLost = rd_kafka_assignment_lost(rk) != 0
            logger.info("partitions revoked", metadata: ["kafka.partitions": "\(partitions)", "kafka.lost": "\(isLost)"])
            state.withLock { state in
                state.dropBuffered(of: Set(partitions))
                state.assignment.subtract(partitions)
            }
            handler.onRevoked(partitions, isLost)
            if commitsOnRevoke && !isLost {
                let result = rd_kafka_commit(rk, nil, 0)
                if result != RD_KAFKA_RESP_ERR__NO_OFFSET, let error = KafkaError.from(result, "commit on revoke") {
                    logger.warning("commit on revoke failed; records may be read again", metadata: ["error": "\(error)"])
                }
            }
            let error =
                isCooperative
                ? KafkaError.consuming(rd_kafka_incremental_unassign(rk, list), "unassign")
                : KafkaError.from(rd_kafka_assign(rk, nil), "unassign")
            if let error { logger.error("cannot give up the revoked partitions", metadata: ["error": "\(error)"]) }
        default:
            logger.error("rebalance failed", metadata: ["error": "\(KafkaError.from(event).map { "\($0)" } ?? "")"])
            state.withLock { state in
                state.dropBuffered(of: state.assignment)
                state.assignment = []
            }
            rd_kafka_assign(rk, nil)
        }
    }
}

/// Topic names of librdkafka topic handles, reusing the last one while it still names its handle's topic.
struct TopicNames {
    private var last: (handle: Int, name: String)?

    mutating func name(of handle: OpaquePointer) -> String {
        let name = rd_kafka_topic_name(handle)!
        // A handle's address may be reused for another topic once librdkafka freed it: compare the name too.
        if let last, last.handle == Int(bitPattern: handle), last.name.withCString({ strcmp($0, name) == 0 }) {
            return last.name
        }
        let created = String(cString: name)
        last = (Int(bitPattern: handle), created)
        return created
    }
}

extension ConsumerRecord {
    /// A record of what `message` holds (the message stays the caller's); `topic` names its topic handle.
    init(copying message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) {
        let m = message.pointee
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        self.init(
            topic: topic,
            partition: m.partition,
            offset: m.offset,
            key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
            value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) },
            headers: Self.headers(of: message),
            timestampMilliseconds: timestamp >= 0 ? timestamp : nil
        )
    }

    private static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        var headers: [KafkaHeader] = []
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            headers.append(
                KafkaHeader(
                    key: name.map { String(cString: $0) } ?? "",
                    value: value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                )
            )
            index += 1
        }
        return headers
    }
}

/// How many times partitions were assigned: lets the poll thread notice, without a lock per record, that
/// a poll call it made ran an assignment.
final class AssignmentCount: Sendable {
    let value = Atomic<Int>(0)
}
