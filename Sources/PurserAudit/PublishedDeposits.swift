import CalypsoSandbox
import PurserKafka
import PurserSchema

/// Reads what the pipeline published, for an audit after the run.
public struct PublishedDeposits: Sendable {
    public let admin: KafkaAdmin
    public let topics: TopicNames

    public init(admin: KafkaAdmin, topics: TopicNames) {
        self.admin = admin
        self.topics = topics
    }

    /// Every event of `topic`, all partitions.
    public func events<Data: EventData>(_ type: Data.Type, in topic: String) async throws -> [CloudEvent<Data>] {
        var events: [CloudEvent<Data>] = []
        for partition in 0..<Int32(try await partitions(of: topic)) {
            for record in try await admin.readPartition(TopicPartition(topic, partition)) {
                events.append(try CloudEvent<Data>(recordValue: record.value ?? []))
            }
        }
        return events
    }

    public func credits() async throws -> [CloudEvent<DepositCredited>] {
        try await events(DepositCredited.self, in: topics.depositsCredited)
    }

    public func holds() async throws -> [CloudEvent<DepositHeld>] {
        try await events(DepositHeld.self, in: topics.depositsHeld)
    }

    /// Records in `topic` now (the sum of its partitions' watermark spans).
    public func count(_ topic: String) async throws -> Int {
        var total: Int64 = 0
        for partition in 0..<Int32(try await partitions(of: topic)) {
            let (low, high) = try await admin.watermarks(TopicPartition(topic, partition), timeout: .seconds(5))
            total += high - low
        }
        return Int(total)
    }

    /// Records of `topics` that `group` has not committed yet.
    public func lag(group: String, topics: [String]) async throws -> Int {
        let committed = try await admin.committedOffsets(group: group, topics: topics, timeout: .seconds(5))
        var lag: Int64 = 0
        for topic in topics {
            for partition in 0..<Int32(try await partitions(of: topic)) {
                let (low, high) = try await admin.watermarks(TopicPartition(topic, partition), timeout: .seconds(5))
                let done = committed.first { $0.topicPartition == TopicPartition(topic, partition) }?.offset ?? low
                lag += high - max(done, low)
            }
        }
        return Int(lag)
    }

    /// Moves `group`'s committed offsets on `topics` back to the first record still stored.
    ///
    /// - Throws: ``KafkaError`` when the group has active members.
    public func rewind(group: String, topics: [String]) async throws {
        var offsets: [TopicPartitionOffset] = []
        for topic in topics {
            for partition in 0..<Int32(try await partitions(of: topic)) {
                let (low, _) = try await admin.watermarks(TopicPartition(topic, partition), timeout: .seconds(5))
                offsets.append(TopicPartitionOffset(topic, partition, offset: low))
            }
        }
        try await admin.alterCommittedOffsets(group: group, offsets)
    }

    private func partitions(of topic: String) async throws -> Int {
        guard let partitions = try await admin.listTopics(timeout: .seconds(5))[topic] else {
            throw KafkaError(code: .unknownTopicOrPartition, message: "no topic \(topic)", isRetriable: false)
        }
        return partitions
    }
}

extension DepositAudit {
    /// Audits what `published` holds now against `ledger`.
    public init(ledger: SandboxLedger, published: PublishedDeposits) async throws {
        var deadLettered = 0
        for worker in TopicNames.Worker.all { deadLettered += try await published.count(published.topics.deadLetter(worker: worker)) }
        self.init(
            ledger: ledger,
            credits: try await published.credits().map(\.data.deposit),
            holds: try await published.holds().map(\.data.deposit),
            declines: try await published.events(DepositDeclined.self, in: published.topics.depositsDeclined).map(\.data),
            deadLettered: deadLettered
        )
    }
}
