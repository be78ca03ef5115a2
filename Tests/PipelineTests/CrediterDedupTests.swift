import PurserKafka
import PurserRuntime
import PurserSchema
import PurserTesting
import PurserWorkers
import Testing

/// One `deposit.credited` per Calypso transaction, across redeliveries, restarts and replays.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct CrediterDedupTests {
    static let group = "purser-deposit-crediter"

    /// Approvals for `transactions` transactions of 20 customers, each approval published twice.
    func publishApprovals(_ pipeline: Pipeline, transactions: Int) async throws -> Set<String> {
        var ids = Set<String>()
        var records: [ProducerRecord] = []
        for index in 0..<transactions {
            let record = try Approvals.record(index: index, customers: 20, topic: pipeline.topics.depositsApproved)
            records += [record, record]
            ids.insert("tx-\(index)")
        }
        for outcome in try await pipeline.producer.send(records) { _ = try outcome.get() }
        return ids
    }

    func creditedTransactionIds(_ pipeline: Pipeline) async throws -> [String] {
        try await pipeline.events(DepositCredited.self, in: pipeline.topics.depositsCredited).map(\.data.deposit.transactionId)
    }

    @Test("a restarted crediter and a full replay of the approved topic credit nothing twice")
    func replayCreditsNothingNew() async throws {
        let pipeline = try await Pipeline()
        let approved = pipeline.topics.depositsApproved
        let expected = try await publishApprovals(pipeline, transactions: 60)

        let first = try pipeline.startWorkers([.depositCrediter])
        try await pipeline.waitUntilConsumed(group: Self.group, topic: approved)
        try await first.stop()
        let credited = try await creditedTransactionIds(pipeline)
        #expect(credited.count == 60, "each transaction approved twice is credited once")
        #expect(Set(credited) == expected)

        // More approvals of the same transactions, read by a new instance that rebuilds from its output.
        _ = try await publishApprovals(pipeline, transactions: 60)
        let restarted = try pipeline.startWorkers([.depositCrediter])
        try await pipeline.waitUntilConsumed(group: Self.group, topic: approved)
        try await restarted.stop()
        #expect(try await creditedTransactionIds(pipeline).count == 60)

        // The whole approved topic again: the group rewound to the beginning with the admin API.
        let beginning = (0..<Int32(pipeline.partitions)).map { TopicPartitionOffset(approved, $0, offset: 0) }
        try await pipeline.admin.alterCommittedOffsets(group: Self.group, beginning)
        let committed = try await pipeline.admin.committedOffsets(group: Self.group, topics: [approved])
        #expect(committed.allSatisfy { $0.offset == 0 }, "the replay starts from the beginning")
        let replaying = try pipeline.startWorkers([.depositCrediter])
        try await pipeline.waitUntilConsumed(group: Self.group, topic: approved)
        try await replaying.stop()

        let afterReplay = try await pipeline.events(DepositCredited.self, in: pipeline.topics.depositsCredited)
        #expect(afterReplay.count == 60, "zero new credits")
        #expect(Set(afterReplay.map(\.id)).count == 60)
        #expect(Set(afterReplay.map(\.data.deposit.transactionId)) == expected)
        try await pipeline.stop()
    }

    @Test("an approval whose credit the broker refuses is dead-lettered without keeping its claim; redriven, it is credited once")
    func deadLetteredApprovalIsCreditedOnceWhenRedriven() async throws {
        let pipeline = try await Pipeline(partitions: 1)
        let approved = pipeline.topics.depositsApproved
        let approval = try Approvals.record(index: 7, customers: 1, topic: approved)
        for outcome in try await pipeline.producer.send([approval]) { _ = try outcome.get() }
        // The next Produce request, the crediter's `deposit.credited`, fails for good.
        pipeline.kafka.pushRequestErrors(.produce, [KafkaError.Code(rawValue: 10)])  // MESSAGE_TOO_LARGE

        let workers = try pipeline.startWorkers([.depositCrediter])
        let deadLetterTopic = pipeline.topics.deadLetter(worker: TopicNames.Worker.depositCrediter)
        try await pipeline.eventually { try await pipeline.count(deadLetterTopic, partitions: 1) == 1 }
        try await pipeline.waitUntilConsumed(group: Self.group, topic: approved)
        #expect(try await pipeline.count(pipeline.topics.depositsCredited) == 0)
        let letter = try #require(try await pipeline.admin.readPartition(TopicPartition(deadLetterTopic, 0)).first)
        #expect(letter.header(DeadLetter.Header.reason) == "permanent")
        #expect(letter.header(DeadLetter.Header.offset) == "0")

        // The fault is gone; the operator redrives the dead letter, which arrives at a new offset.
        try await pipeline.redriveDeadLetters(worker: TopicNames.Worker.depositCrediter)
        try await pipeline.eventually { try await pipeline.count(pipeline.topics.depositsCredited) == 1 }
        // Calypso redelivers the approval once more: still a duplicate of the credit now written.
        for outcome in try await pipeline.producer.send([approval]) { _ = try outcome.get() }
        try await pipeline.waitUntilConsumed(group: Self.group, topic: approved)
        try await workers.stop()

        #expect(try await pipeline.count(approved) == 3)
        #expect(try await creditedTransactionIds(pipeline) == ["tx-7"])
        #expect(try await pipeline.count(deadLetterTopic, partitions: 1) == 1, "nothing more dead-lettered")
        try await pipeline.stop()
    }

    @Test("a credit the broker stored without acknowledging it in time is not sent again")
    func creditStoredButNotAcknowledgedIsNotSentAgain() async throws {
        let pipeline = try await Pipeline(partitions: 1)
        let approved = pipeline.topics.depositsApproved
        let credited = pipeline.topics.depositsCredited
        let workers = try pipeline.startWorkers([.depositCrediter]) { $0.kafkaProperties["message.timeout.ms"] = "1000" }
        // A first credit, so the crediter has joined and rebuilt its state before the broker slows down.
        for outcome in try await pipeline.producer.send([try Approvals.record(index: 0, customers: 1, topic: approved)]) {
            _ = try outcome.get()
        }
        try await pipeline.eventually { try await pipeline.count(credited) == 1 }

        // The broker stores what it receives but answers after 2.5 s: the crediter's send of the next credit
        // times out after 1 s although the record is in the topic (librdkafka reports it "possibly persisted").
        try pipeline.kafka.setRoundTripTime(.milliseconds(2500))
        for outcome in try await pipeline.producer.send([try Approvals.record(index: 1, customers: 1, topic: approved)]) {
            _ = try outcome.get()
        }
        try await pipeline.eventually { try await pipeline.count(credited) >= 2 }
        // Time for a resend, had there been one, to land too.
        try await Task.sleep(for: .seconds(4))
        try pipeline.kafka.setRoundTripTime(.zero)
        try await pipeline.waitUntilConsumed(group: Self.group, topic: approved)
        try await workers.stop()

        #expect(try await creditedTransactionIds(pipeline).sorted() == ["tx-0", "tx-1"], "each transaction credited once")
        try await pipeline.stop()
    }
}
