import Crdkafka
import Foundation
import Logging

/// Topics, offsets and consumer groups: what operators and `purser topics apply` need.
///
/// Works against real clusters and the embedded broker alike; where the embedded broker lacks an
/// API (creating topics, timestamp lookups, describing groups) a documented fallback is used.
public final class KafkaAdmin: Sendable {
    /// A topic to create.
    public struct TopicSpecification: Sendable, Equatable {
        public var name: String
        public var partitions: Int
        public var replicationFactor: Int
        /// Topic configs such as `cleanup.policy` and `retention.ms`.
        public var configs: [String: String]

        public init(name: String, partitions: Int, replicationFactor: Int = 1, configs: [String: String] = [:]) {
            self.name = name
            self.partitions = partitions
            self.replicationFactor = replicationFactor
            self.configs = configs
        }
    }

    /// What ``createTopics(_:timeout:)`` did for one topic.
    public enum TopicCreation: Sendable, Equatable {
        case created
        /// The topic was there already, with this many partitions.
        case alreadyExists(partitions: Int)
    }

    let options: KafkaClientOptions
    let logger: Logger
    private let client: RDKafkaClient
    private let pollThread: PollThread

    public init(options: KafkaClientOptions, logger: Logger) throws(KafkaError) {
        var adminLogger = logger
        adminLogger[metadataKey: "kafka.client_type"] = "admin"
        let logger = adminLogger
        let client = try RDKafkaClient(
            type: RD_KAFKA_PRODUCER,
            properties: options.properties + options.additionalProperties.sorted { $0.key < $1.key },
            callbacks: ClientCallbacks(logger: logger) { error in
                logger.warning("Kafka admin client error", metadata: ["error": "\(error)"])
            }
        )
        self.options = options
        self.logger = logger
        self.client = client
        // Serves the client's error and log callbacks.
        self.pollThread = PollThread(name: "kafka-admin-poll") { _ = rd_kafka_poll(client.handle, 100) }
    }

    deinit { pollThread.stop() }

    // MARK: - Topics

    /// Every topic (but Kafka's internal `__` ones) and its partition count.
    public func listTopics(timeout: Duration = .seconds(10)) async throws -> [String: Int] {
        let client = client
        return try await runBlocking {
            var metadata: UnsafePointer<rd_kafka_metadata>?
            try KafkaError.check(
                rd_kafka_metadata(client.handle, 1, nil, &metadata, Int32(clamping: timeout.milliseconds)),
                "list topics"
            )
            guard let metadata else { return [:] }
            defer { rd_kafka_metadata_destroy(metadata) }
            var topics: [String: Int] = [:]
            for index in 0..<Int(metadata.pointee.topic_cnt) {
                let topic = metadata.pointee.topics[index]
                let name = String(cString: topic.topic)
                if topic.err == RD_KAFKA_RESP_ERR_NO_ERROR && !name.hasPrefix("__") {
                    topics[name] = Int(topic.partition_cnt)
                }
            }
            return topics
        }
    }

    /// Creates the topics that do not exist yet; existing ones are left as they are (idempotent).
    /// - Returns: For each topic, whether it was created or already there.
    public func createTopics(_ topics: [TopicSpecification], timeout: Duration = .seconds(30)) async throws -> [String: TopicCreation] {
        let existing = try await listTopics(timeout: timeout)
        var results: [String: TopicCreation] = [:]
        var missing: [TopicSpecification] = []
        for topic in topics {
            if let partitions = existing[topic.name] {
                results[topic.name] = .alreadyExists(partitions: partitions)
            } else {
                missing.append(topic)
            }
        }
        guard !missing.isEmpty else { return results }
        let toCreate = missing
        let created = try await adminRequest("create topics", RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout: timeout) { handle, options, queue in
            var errorText = [CChar](repeating: 0, count: 512)
            var newTopics: [OpaquePointer?] = []
            defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
            for spec in toCreate {
                guard let topic = rd_kafka_NewTopic_new(spec.name, Int32(spec.partitions), Int32(spec.replicationFactor), &errorText, errorText.count) else {
                    throw KafkaError(code: .invalidArgument, message: "topic \(spec.name): \(string(fromCBuffer: errorText))", isRetriable: false)
                }
                newTopics.append(topic)
                for (key, value) in spec.configs.sorted(by: { $0.key < $1.key }) {
                    try KafkaError.check(rd_kafka_NewTopic_set_config(topic, key, value), "topic \(spec.name) config \(key)")
                }
            }
            rd_kafka_CreateTopics(handle, &newTopics, newTopics.count, options, queue)
        } result: { event in
            var count = 0
            let topicResults = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
            var outcome: [String: TopicCreation] = [:]
            for index in 0..<count {
                let result = topicResults![index]
                let name = String(cString: rd_kafka_topic_result_name(result))
                let err = rd_kafka_topic_result_error(result)
                if err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                    outcome[name] = .alreadyExists(partitions: toCreate.first { $0.name == name }?.partitions ?? 0)
                } else if let error = KafkaError.from(err, "create topic \(name)") {
                    throw error
                } else {
                    outcome[name] = .created
                }
            }
            return outcome
        }
        return results.merging(created) { $1 }
    }

    // MARK: - Offsets

    /// Low and high watermarks of a partition.
    public func watermarks(_ partition: TopicPartition, timeout: Duration = .seconds(10)) async throws -> (low: Int64, high: Int64) {
        let client = client
        return try await runBlocking { try client.watermarks(partition, timeout: timeout) }
    }

    /// For each partition of `topic`, the offset of the first record at or after `timestamp`
    /// (milliseconds since 1970), or the high watermark when there is none.
    ///
    /// Uses Kafka's ListOffsets by time; where the broker answers -1 for a partition that has
    /// records (the embedded broker always does), the answer is the high watermark when the last record
    /// is older than `timestamp` (what -1 means on a real broker), and otherwise comes from a scan of the
    /// partition's record timestamps.
    public func offsets(forTimestamp timestamp: Int64, topic: String, timeout: Duration = .seconds(30)) async throws -> [TopicPartitionOffset] {
        guard let partitionCount = try await listTopics(timeout: timeout)[topic] else {
            throw KafkaError(code: .unknownTopicOrPartition, message: "no topic \(topic)", isRetriable: false)
        }
        let partitions = (0..<Int32(partitionCount)).map { TopicPartition(topic, $0) }
        let client = client
        let answered = try await runBlocking {
            try PartitionList.with(partitions.map { TopicPartitionOffset($0, offset: timestamp) }) { list in
                try KafkaError.check(
                    rd_kafka_offsets_for_times(client.handle, list, Int32(clamping: timeout.milliseconds)),
                    "offsets for times"
                )
                return PartitionList.elements(list)
            }
        }
        var result: [TopicPartitionOffset] = []
        for position in answered {
            let (low, high) = try await watermarks(position.topicPartition, timeout: timeout)
            if position.offset >= 0 || low == high {
                result.append(position.offset >= 0 ? position : TopicPartitionOffset(position.topicPartition, offset: high))
                continue
            }
            // A real broker answers -1 when no record is that recent: the last record says so without a scan.
            let last = try await readPartition(position.topicPartition, from: high - 1, readsCommittedOnly: false, timeout: timeout)
            if let latest = last.last?.timestampMilliseconds, latest < timestamp {
                result.append(TopicPartitionOffset(position.topicPartition, offset: high))
                continue
            }
            let records = try await readPartition(position.topicPartition, from: low, readsCommittedOnly: false, timeout: timeout)
            let first = records.first { ($0.timestampMilliseconds ?? .min) >= timestamp }
            result.append(TopicPartitionOffset(position.topicPartition, offset: first?.offset ?? high))
        }
        return result
    }

    /// Every record of a partition from `start` up to its high watermark at the time of the call,
    /// read without a consumer group (nothing is committed).
    ///
    /// Meant for rebuilding state from a topic and for scans; the records are held in memory.
    /// - Throws: ``KafkaError/Code/timedOut`` when the end was not reached within `timeout`.
    public func readPartition(
        _ partition: TopicPartition,
        from start: Int64 = TopicPartitionOffset.beginning,
        readsCommittedOnly: Bool = true,
        timeout: Duration = .seconds(30)
    ) async throws -> [ConsumerRecord] {
        let options = options
        let logger = logger
        return try await runBlocking {
            try Self.readPartition(partition, from: start, readsCommittedOnly: readsCommittedOnly, timeout: timeout, options: options, logger: logger)
        }
    }

    /// The blocking read behind ``readPartition(_:from:readsCommittedOnly:timeout:)``: its own
    /// short-lived consumer, polled on the calling thread.
    private static func readPartition(
        _ partition: TopicPartition,
        from start: Int64,
        readsCommittedOnly: Bool,
        timeout: Duration,
        options: KafkaClientOptions,
        logger: Logger
    ) throws -> [ConsumerRecord] {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: options.bootstrapServers, groupID: nil)
        configuration.client = options
        configuration.readsCommittedOnly = readsCommittedOnly
        configuration.client.additionalProperties["enable.partition.eof"] = "true"
        let reader = try RDKafkaClient(
            type: RD_KAFKA_CONSUMER,
            properties: configuration.properties,
            callbacks: ClientCallbacks(logger: logger) { error in
                logger.debug("partition reader error", metadata: ["error": "\(error)"])
            }
        )
        rd_kafka_poll_set_consumer(reader.handle)
        defer { rd_kafka_consumer_close(reader.handle) }
        let deadline = ContinuousClock.now + timeout
        let (low, high) = try reader.watermarks(partition, timeout: timeout)
        let first = start < 0 ? low : max(start, low)
        guard first < high else { return [] }
        try PartitionList.with([TopicPartitionOffset(partition, offset: first)]) { list throws(KafkaError) in
            try KafkaError.check(rd_kafka_assign(reader.handle, list), "assign \(partition)")
        }
        var records: [ConsumerRecord] = []
        var names = TopicNames()
        while ContinuousClock.now < deadline {
            guard let message = rd_kafka_consumer_poll(reader.handle, 100) else { continue }
            defer { rd_kafka_message_destroy(message) }
            if message.pointee.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return records }
            if let error = KafkaError.from(message.pointee.err, "read \(partition)") {
                if error.isFatal { throw error }
                continue
            }
            let record = ConsumerRecord(copying: message, topic: names.name(of: message.pointee.rkt))
            records.append(record)
            if record.offset >= high - 1 { return records }
        }
        throw KafkaError(code: .timedOut, message: "reading \(partition) to offset \(high) took longer than \(timeout)")
    }

    // MARK: - Consumer groups

    /// The group's committed offsets for every partition of these topics
    /// (``TopicPartitionOffset/invalid`` where nothing is committed).
    public func committedOffsets(group: String, topics: [String], timeout: Duration = .seconds(10)) async throws -> [TopicPartitionOffset] {
        let known = try await listTopics(timeout: timeout)
        let partitions = topics.flatMap { topic in
            (0..<Int32(known[topic] ?? 0)).map { TopicPartitionOffset(topic, $0, offset: TopicPartitionOffset.invalid) }
        }
        guard !partitions.isEmpty else { return [] }
        let offsets: [TopicPartitionOffset] = try await adminRequest("list group offsets", RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout: timeout) { handle, options, queue in
            PartitionList.with(partitions) { list in
                var request: [OpaquePointer?] = [rd_kafka_ListConsumerGroupOffsets_new(group, list)]
                defer { rd_kafka_ListConsumerGroupOffsets_destroy(request[0]) }
                rd_kafka_ListConsumerGroupOffsets(handle, &request, 1, options, queue)
            }
        } result: { event in
            var count = 0
            let groups = rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(event), &count)
            return try Self.groupOffsets(groups, count: count, context: "committed offsets of \(group)")
        }
        return offsets.sorted(by: Self.partitionOrder)
    }

    /// Sets a stopped group's committed offsets (next offsets to read).
    ///
    /// Uses Kafka's AlterConsumerGroupOffsets. The embedded broker refuses that for any group that
    /// ever had members, so there the offsets are committed by a short-lived member that joins the
    /// group, checks it got every partition of the offsets' topics (no one else is in the group), and
    /// leaves.
    /// - Throws: ``KafkaError/Code/unknownMemberID`` when the group has active members.
    public func alterCommittedOffsets(group: String, _ offsets: [TopicPartitionOffset], timeout: Duration = .seconds(30)) async throws {
        do {
            _ = try await adminRequest("alter group offsets", RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, timeout: timeout) { handle, options, queue in
                PartitionList.with(offsets) { list in
                    var request: [OpaquePointer?] = [rd_kafka_AlterConsumerGroupOffsets_new(group, list)]
                    defer { rd_kafka_AlterConsumerGroupOffsets_destroy(request[0]) }
                    rd_kafka_AlterConsumerGroupOffsets(handle, &request, 1, options, queue)
                }
            } result: { event in
                var count = 0
                let groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(event), &count)
                return try Self.groupOffsets(groups, count: count, context: "alter offsets of \(group)")
            }
        } catch let error as KafkaError where error.code == .unknownMemberID {
            guard try await describeGroupMembers(group, timeout: timeout) == nil else { throw error }
            let topics = Array(Set(offsets.map(\.topicPartition.topic))).sorted()
            let committed: Void? = try await asSoleMember(of: group, topics: topics, timeout: timeout) { member in
                try await member.commit(offsets)
            }
            if committed == nil {
                throw KafkaError(code: .unknownMemberID, message: "group \(group) has active members", isRetriable: false)
            }
        }
    }

    /// Whether any consumer is a member of the group right now.
    ///
    /// Uses DescribeConsumerGroups; the embedded broker lacks it, so there a short-lived member joins
    /// the group on `topics` and checks whether it was given every partition (it is alone) or not.
    public func groupHasActiveMembers(_ group: String, topics: [String], timeout: Duration = .seconds(30)) async throws -> Bool {
        if let members = try await describeGroupMembers(group, timeout: timeout) { return members > 0 }
        return try await asSoleMember(of: group, topics: topics, timeout: timeout) { _ in } == nil
    }

    /// The group's member count from DescribeGroups, or `nil` where the broker lacks that API.
    ///
    /// Uses `rd_kafka_list_groups`: librdkafka 2.0.2's DescribeConsumerGroups admin call trips an
    /// internal assertion when the broker does not support it.
    private func describeGroupMembers(_ group: String, timeout: Duration) async throws -> Int? {
        let client = client
        let logger = logger
        return try await runBlocking {
            var list: UnsafePointer<rd_kafka_group_list>?
            let result = rd_kafka_list_groups(client.handle, group, &list, Int32(clamping: timeout.milliseconds))
            if result == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || result == RD_KAFKA_RESP_ERR__TIMED_OUT
                || result == RD_KAFKA_RESP_ERR__TRANSPORT
            {
                logger.debug("describing groups is not supported; probing membership", metadata: ["error": "\(result)"])
                return nil
            }
            try KafkaError.check(result, "describe group \(group)")
            guard let list else { return 0 }
            defer { rd_kafka_group_list_destroy(list) }
            for index in 0..<Int(list.pointee.group_cnt) {
                let info = list.pointee.groups[index]
                guard String(cString: info.group) == group else { continue }
                try KafkaError.check(info.err, "describe group \(group)")
                return Int(info.member_cnt)
            }
            return 0
        }
    }

    /// Joins `group` on `topics` with a temporary member; when it is assigned every partition (no
    /// other member), runs `body` with it before leaving. `nil` when other members exist.
    private func asSoleMember<T: Sendable>(
        of group: String,
        topics: [String],
        timeout: Duration,
        _ body: (KafkaConsumer) async throws -> T
    ) async throws -> T? {
        let known = try await listTopics(timeout: timeout)
        let total = topics.map { known[$0] ?? 0 }.reduce(0, +)
        let assigned = LockedState<[TopicPartition]?>(nil)
        var configuration = KafkaConsumerConfiguration(bootstrapServers: options.bootstrapServers, groupID: group)
        configuration.client = options
        configuration.sessionTimeout = .seconds(6)
        configuration.heartbeatInterval = .milliseconds(500)
        configuration.isAutoCommitEnabled = false
        let member = try KafkaConsumer(
            configuration: configuration,
            logger: logger,
            rebalance: .init(onAssigned: { partitions in assigned.withLock { $0 = ($0 ?? []) + partitions } })
        )
        let result: T?
        do {
            try member.subscribe(topics: topics)
            let deadline = ContinuousClock.now + timeout
            while assigned.withLock({ $0 }) == nil && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            guard let partitions = assigned.withLock({ $0 }) else {
                throw KafkaError(code: .timedOut, message: "joining group \(group) took longer than \(timeout)")
            }
            result = partitions.count == total ? try await body(member) : nil
        } catch {
            await member.shutdown()
            throw error
        }
        await member.shutdown()
        return result
    }

    private static func partitionOrder(_ a: TopicPartitionOffset, _ b: TopicPartitionOffset) -> Bool {
        a.topicPartition.topic == b.topicPartition.topic
            ? a.topicPartition.partition < b.topicPartition.partition
            : a.topicPartition.topic < b.topicPartition.topic
    }

    private static func groupOffsets(_ groups: UnsafeMutablePointer<OpaquePointer?>?, count: Int, context: String) throws -> [TopicPartitionOffset] {
        guard count > 0, let result = groups?[0] else {
            throw KafkaError(code: .invalidArgument, message: "\(context): empty answer")
        }
        if let error = rd_kafka_group_result_error(result) {
            throw KafkaError(
                code: KafkaError.Code(rd_kafka_error_code(error)),
                message: "\(context): \(String(cString: rd_kafka_error_string(error)))"
            )
        }
        guard let list = rd_kafka_group_result_partitions(result) else { return [] }
        if let error = PartitionList.firstError(list, context) { throw error }
        return PartitionList.elements(list)
    }

    // MARK: - Requests

    /// Runs one admin request on a private queue and waits (off the cooperative pool) for its answer.
    private func adminRequest<Result: Sendable>(
        _ name: String,
        _ operation: rd_kafka_admin_op_t,
        timeout: Duration,
        start: @escaping @Sendable (OpaquePointer, OpaquePointer, OpaquePointer) throws -> Void,
        result: @escaping @Sendable (OpaquePointer) throws -> Result
    ) async throws -> Result {
        let client = client
        return try await runBlocking {
            let queue = rd_kafka_queue_new(client.handle)!
            defer { rd_kafka_queue_destroy(queue) }
            let options = rd_kafka_AdminOptions_new(client.handle, operation)!
            defer { rd_kafka_AdminOptions_destroy(options) }
            var errorText = [CChar](repeating: 0, count: 512)
            try KafkaError.check(
                rd_kafka_AdminOptions_set_request_timeout(options, Int32(clamping: timeout.milliseconds), &errorText, errorText.count),
                name
            )
            try start(client.handle, options, queue)
            guard let event = rd_kafka_queue_poll(queue, Int32(clamping: (timeout + .seconds(1)).milliseconds)) else {
                throw KafkaError(code: .timedOut, message: "\(name): no answer within \(timeout)")
            }
            defer { rd_kafka_event_destroy(event) }
            if let error = KafkaError.from(rd_kafka_event_error(event), name) {
                let detail = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? error.message
                throw KafkaError(code: error.code, message: "\(name): \(detail)")
            }
            return try result(event)
        }
    }
}
