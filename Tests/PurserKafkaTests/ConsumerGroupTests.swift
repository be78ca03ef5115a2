import Foundation
@testable import PurserKafka
import PurserTesting
import Synchronization
import Testing

/// Collects values handed over from the consumer's poll thread.
final class Recorded<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
}

@Suite(.serialized, .timeLimit(.minutes(3)))
struct ConsumerGroupTests {
    @Test("two members split the partitions; after one leaves the other resumes exactly at its commits")
    func splitAndTakeOver() async throws {
        let topic = KafkaTesting.uniqueName("group-split")
        let group = KafkaTesting.uniqueName("group")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 6])
        let configuration = KafkaTesting.consumerConfiguration(kafka, groupID: group)
        let revokedFromB = Recorded<[TopicPartition]>()
        let first = try KafkaConsumer(configuration: configuration, logger: KafkaTesting.logger)
        let second = try KafkaConsumer(
            configuration: configuration,
            logger: KafkaTesting.logger,
            rebalance: .init(onRevoked: { partitions, _ in revokedFromB.append(partitions) })
        )
        try first.subscribe(topics: [topic])
        try second.subscribe(topics: [topic])
        try await KafkaTesting.eventually {
            let a = try first.assignment()
            let b = try second.assignment()
            return !a.isEmpty && !b.isEmpty && a.count + b.count == 6
        }
        let partitionsOfA = Set(try first.assignment())
        let partitionsOfB = Set(try second.assignment())
        #expect(partitionsOfA.isDisjoint(with: partitionsOfB))

        // 10 records in each partition, written after the split.
        let producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        for partition in 0..<Int32(6) {
            for sequence in 0..<10 {
                _ = try await producer.send(ProducerRecord(topic: topic, partition: partition, key: "p\(partition)", value: "\(sequence)"))
            }
        }

        // A processes everything it gets; B processes (stores) only offsets 0...4 of its partitions.
        let readByA = try await KafkaTesting.collect(partitionsOfA.count * 10, from: first) { try first.storeOffset(of: $0) }
        let readByB = try await KafkaTesting.collect(partitionsOfB.count * 10, from: second) { record in
            if record.offset < 5 { try second.storeOffset(of: record) }
        }
        #expect(Set(readByA.map(\.topicPartition)) == partitionsOfA)
        #expect(Set(readByB.map(\.topicPartition)) == partitionsOfB)

        await second.shutdown()
        #expect(Set(revokedFromB.all.joined()) == partitionsOfB, "the revoke hook ran for B's partitions before it left")

        // A takes over B's partitions from the first unprocessed record: nothing committed comes again,
        // nothing unprocessed is lost.
        let takenOver = try await KafkaTesting.collect(partitionsOfB.count * 5, from: first) { try first.storeOffset(of: $0) }
        for partition in partitionsOfB {
            #expect(takenOver.filter { $0.topicPartition == partition }.map(\.offset) == Array(5...9))
        }
        try await first.commit()
        let committed = try await first.committed(Array(partitionsOfA.union(partitionsOfB)))
        #expect(committed.allSatisfy { $0.offset == 10 })

        await first.shutdown()
        await producer.shutdown()
    }

    @Test("a record read before its partition was revoked stays stale after the partition comes back")
    func recordOutlivingItsAssignmentIsNotCurrent() async throws {
        let topic = KafkaTesting.uniqueName("group-epoch")
        let group = KafkaTesting.uniqueName("group")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 6])
        let producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        func sendOneToEachPartition(_ value: String) async throws {
            for partition in 0..<Int32(6) {
                _ = try await producer.send(ProducerRecord(topic: topic, partition: partition, key: "p\(partition)", value: value))
            }
        }
        try await sendOneToEachPartition("before")
        let configuration = KafkaTesting.consumerConfiguration(kafka, groupID: group)
        let first = try KafkaConsumer(configuration: configuration, logger: KafkaTesting.logger)
        try first.subscribe(topics: [topic])
        // Held by the reader, as the worker runtime holds a record between reading it and scheduling it.
        let held = try await KafkaTesting.collect(6, from: first)
        #expect(held.allSatisfy(first.isCurrent))

        let second = try KafkaConsumer(configuration: configuration, logger: KafkaTesting.logger)
        try second.subscribe(topics: [topic])
        try await KafkaTesting.eventually { try !second.assignment().isEmpty && first.assignment().count + second.assignment().count == 6 }
        let moved = Set(try second.assignment())
        await second.shutdown()
        try await KafkaTesting.eventually { try first.assignment().count == 6 }

        for record in held {
            #expect(first.isCurrent(record) == !moved.contains(record.topicPartition), "\(record.topicPartition)")
        }
        // The partitions that came back deliver current records again.
        try await sendOneToEachPartition("after")
        let after = try await KafkaTesting.collect(6, from: first).filter { $0.value == Array("after".utf8) }
        #expect(!after.isEmpty && after.allSatisfy(first.isCurrent))
        await first.shutdown()
        await producer.shutdown()
    }

    @Test("a member shut down after joining its group but before its first assignment waits for it, then closes")
    func shutdownBetweenJoinAndFirstAssignment() async throws {
        let topic = KafkaTesting.uniqueName("group-join")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 2])
        // Slow answers widen the gap between the JoinGroup answer and the SyncGroup answer to 0.6 s.
        try kafka.setRoundTripTime(.milliseconds(600))
        let assigned = Recorded<[TopicPartition]>()
        let consumer = try KafkaConsumer(
            configuration: KafkaTesting.consumerConfiguration(kafka, groupID: KafkaTesting.uniqueName("group")),
            logger: KafkaTesting.logger,
            rebalance: .init(onAssigned: { assigned.append($0) })
        )
        try consumer.subscribe(topics: [topic])
        try await KafkaTesting.eventually { KafkaConsumer.hasMemberID(consumer.client) }
        #expect(assigned.all.isEmpty, "joined, not assigned yet")
        // librdkafka 2.0.2 aborts the process if the member is destroyed now.
        await consumer.shutdown()
        #expect(consumer.assignments.value.load(ordering: .acquiring) == 1, "the close waited for the assignment")
        #expect(assigned.all.isEmpty, "an assignment that arrives while closing is not announced")
    }

    @Test("offsets by time and a group reset move a stopped group to the right records")
    func resetStoppedGroupByTime() async throws {
        let topic = KafkaTesting.uniqueName("replay")
        let group = KafkaTesting.uniqueName("group")
        let kafka = try KafkaTesting.startBroker(topics: [topic: 2])
        let producer = try KafkaProducer(configuration: KafkaTesting.producerConfiguration(kafka), logger: KafkaTesting.logger)
        let admin = try KafkaAdmin(options: KafkaClientOptions(bootstrapServers: kafka.brokers), logger: KafkaTesting.logger)
        func sendBatch(_ label: String) async throws {
            for partition in 0..<Int32(2) {
                for sequence in 0..<5 {
                    _ = try await producer.send(ProducerRecord(topic: topic, partition: partition, key: "k", value: "\(label)\(sequence)"))
                }
            }
        }
        try await sendBatch("early")
        try await Task.sleep(for: .milliseconds(20))
        let cutoff = Self.nowMilliseconds()
        try await Task.sleep(for: .milliseconds(20))
        try await sendBatch("late")

        let atCutoff = try await admin.offsets(forTimestamp: cutoff, topic: topic)
        #expect(atCutoff.sorted { $0.topicPartition.partition < $1.topicPartition.partition }.map(\.offset) == [5, 5])
        let afterEverything = try await admin.offsets(forTimestamp: Self.nowMilliseconds() + 60_000, topic: topic)
        #expect(afterEverything.map(\.offset) == [10, 10], "no record after the time: the end of each partition")

        // The group reads everything and commits, then stops.
        let consumer = try KafkaConsumer(configuration: KafkaTesting.consumerConfiguration(kafka, groupID: group), logger: KafkaTesting.logger)
        try consumer.subscribe(topics: [topic])
        _ = try await KafkaTesting.collect(20, from: consumer) { try consumer.storeOffset(of: $0) }
        try await consumer.commit()
        #expect(try await admin.groupHasActiveMembers(group, topics: [topic]))
        await consumer.shutdown()
        #expect(try await admin.committedOffsets(group: group, topics: [topic]).map(\.offset) == [10, 10])
        #expect(try await admin.groupHasActiveMembers(group, topics: [topic]) == false)

        try await admin.alterCommittedOffsets(group: group, atCutoff)
        #expect(try await admin.committedOffsets(group: group, topics: [topic]).map(\.offset) == [5, 5])

        let replaying = try KafkaConsumer(configuration: KafkaTesting.consumerConfiguration(kafka, groupID: group), logger: KafkaTesting.logger)
        try replaying.subscribe(topics: [topic])
        let replayed = try await KafkaTesting.collect(10, from: replaying)
        #expect(replayed.allSatisfy { String(decoding: $0.value ?? [], as: UTF8.self).hasPrefix("late") })
        await replaying.shutdown()
        await producer.shutdown()
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
