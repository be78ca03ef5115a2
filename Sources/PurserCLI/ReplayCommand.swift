import ArgumentParser
import PurserKafka
import PurserSchema

/// `purser replay --group G --topic T (--from TIME | --offset N | --earliest) [--to TIME] [--dry-run]
/// [--into TOPIC] [--json]`.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rewind a stopped consumer group on a topic, or copy a window of the topic into another topic.",
        discussion: """
            Without --into, sets the group's committed offsets on every partition of TOPIC; refused while \
            the group has members (stop its consumers first). With --into, copies the records of \
            [start, --to) to that topic, each with the header \(replayHeader): <topic>/<partition>/<offset>, \
            and leaves every group's offsets alone.
            """
    )

    /// The header on every record `--into` copies: where the original is.
    static let replayHeader = "purser-replay"

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "The consumer group to rewind (not needed with --into).")
    var group: String?

    @Option(help: "The topic to replay; may omit TOPIC_PREFIX.")
    var topic: String

    @Option(help: "Start at the first record at or after this time: RFC 3339 or a duration before now (10m, 2h).")
    var from: TimeArgument?

    @Option(help: "Start at this offset on every partition (clamped to what the partition holds).")
    var offset: Int64?

    @Flag(help: "Start at the earliest record each partition holds.")
    var earliest = false

    @Option(help: "With --into: stop before the first record at or after this time. Default: the current end.")
    var to: TimeArgument?

    @Flag(help: "Print what would change and how many records it concerns; change nothing.")
    var dryRun = false

    @Option(help: "Copy the window into this topic instead of moving the group.")
    var into: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        let starts = [from != nil, offset != nil, earliest].filter { $0 }.count
        guard starts == 1 else { throw ValidationError("give exactly one of --from, --offset, --earliest") }
        if let offset, offset < 0 { throw ValidationError("--offset must not be negative") }
        if into == nil {
            guard group != nil else { throw ValidationError("--group is required (or --into to copy instead)") }
            guard to == nil else {
                throw ValidationError("--to applies to --into only; a rewound group reads to the end")
            }
        }
    }

    /// What happens on one partition.
    struct PartitionPlan: Codable, Equatable {
        var topic: String
        var partition: Int32
        /// The group's committed offset before the replay; `nil` with `--into` or when none.
        var committed: Int64?
        /// The first offset replayed.
        var start: Int64
        /// The offset the window ends before.
        var end: Int64
        /// How many records the group re-processes (or `--into` copies).
        var records: Int64
    }

    struct Result: Codable, Equatable {
        var group: String?
        var topic: String
        var into: String?
        var dryRun: Bool
        var partitions: [PartitionPlan]
        var records: Int64
    }

    func run() async throws {
        let cluster = try await OperatorKafka.connect(kafka)
        let context = OperatorContext.current
        let source = cluster.topicName(topic)
        let partitions = try cluster.partitions(of: source)
        let target = try into.map { name in
            let resolved = cluster.topicName(name)
            _ = try cluster.partitions(of: resolved)
            return resolved
        }
        var plans: [PartitionPlan] = []
        let starts = try await startOffsets(partitions, cluster: cluster)
        var ends: [TopicPartitionOffset]?
        if let to {
            ends = try await cluster.admin.offsets(
                forTimestamp: to.timestamp().millisecondsSince1970,
                topic: source,
                timeout: cluster.timeout
            )
        }
        var committed: [TopicPartitionOffset] = []
        if let group, target == nil {
            committed = try await cluster.admin.committedOffsets(
                group: group,
                topics: [source],
                timeout: cluster.timeout
            )
        }
        if let group, target == nil, !committed.contains(where: { $0.offset >= 0 }) {
            throw OperatorError("group \(group) has no committed offset on \(source): nothing to rewind (is the group name right?)")
        }
        var skips: [String] = []
        for partition in partitions {
            let (low, high) = try await cluster.admin.watermarks(partition, timeout: cluster.timeout)
            let start = starts.first { $0.topicPartition == partition }?.offset ?? high
            let end = ends?.first { $0.topicPartition == partition }?.offset ?? high
            let previous = committed.first { $0.topicPartition == partition }?.offset
            // A rewind never moves a group past records it has not processed (from its commit, or from the
            // partition's start when it has none or retention removed what follows it): that would lose them.
            let next = max(previous.flatMap { $0 >= 0 ? $0 : nil } ?? low, low)
            if target == nil, start > next {
                skips.append("\(partition): its next record is \(next), the replay would start at \(start)")
            }
            let reprocessedUpTo = target == nil ? (previous.flatMap { $0 >= 0 ? $0 : nil } ?? high) : end
            plans.append(
                PartitionPlan(
                    topic: source,
                    partition: partition.partition,
                    committed: previous.flatMap { $0 >= 0 ? $0 : nil },
                    start: start,
                    end: target == nil ? high : end,
                    records: max(0, reprocessedUpTo - start)
                )
            )
        }

        if !skips.isEmpty {
            throw OperatorError(
                "replay only rewinds; moving group \(group ?? "") forward would skip records it has not processed ("
                    + skips.joined(separator: "; ") + "). Choose an earlier start."
            )
        }
        if !dryRun {
            if let target {
                // Offsets count transaction markers and records trimmed meanwhile too: report what was copied.
                let copied = try await copy(plans, into: target, cluster: cluster)
                for index in plans.indices { plans[index].records = copied[plans[index].partition, default: 0] }
            } else if let group {
                try await rewind(group, plans, cluster: cluster)
            }
        }
        let result = Result(
            group: target == nil ? group : nil,
            topic: source,
            into: target,
            dryRun: dryRun,
            partitions: plans,
            records: plans.map(\.records).reduce(0, +)
        )
        if json {
            context.write(try JSONOutput.text(result))
        } else {
            context.write(Self.text(result))
        }
    }

    /// Where the replay starts on each partition.
    private func startOffsets(_ partitions: [TopicPartition], cluster: OperatorKafka) async throws
        -> [TopicPartitionOffset]
    {
        if let from {
            return try await cluster.admin.offsets(
                forTimestamp: from.timestamp().millisecondsSince1970,
                topic: partitions[0].topic,
                timeout: cluster.timeout
            )
        }
        return try await partitions.asyncMap { partition in
            let (low, high) = try await cluster.admin.watermarks(partition, timeout: cluster.timeout)
            return TopicPartitionOffset(partition, offset: offset.map { min(max($0, low), high) } ?? low)
        }
    }

    /// Moves the group, after checking nobody consumes with it.
    private func rewind(_ group: String, _ plans: [PartitionPlan], cluster: OperatorKafka) async throws {
        let refusal = OperatorError("group \(group) has active members; stop its consumers, then replay")
        let topic = cluster.topicName(self.topic)
        OperatorContext.current.progress("checking that group \(group) has no members")
        if try await cluster.admin.groupHasActiveMembers(group, topics: [topic], timeout: cluster.timeout) {
            throw refusal
        }
        do {
            try await cluster.admin.alterCommittedOffsets(
                group: group,
                plans.map { TopicPartitionOffset($0.topic, $0.partition, offset: $0.start) },
                timeout: cluster.timeout
            )
        } catch let error as KafkaError where error.code == .unknownMemberID {
            throw refusal
        }
    }

    /// Copies each partition's window, marking every copy with where it came from.
    /// - Returns: how many records were copied from each partition.
    private func copy(_ plans: [PartitionPlan], into target: String, cluster: OperatorKafka) async throws -> [Int32: Int64] {
        var records: [ProducerRecord] = []
        var counts: [Int32: Int64] = [:]
        for plan in plans where plan.records > 0 {
            OperatorContext.current.progress("reading \(plan.topic)/\(plan.partition) [\(plan.start), \(plan.end))")
            let partition = TopicPartition(plan.topic, plan.partition)
            for record in try await cluster.admin.readPartition(partition, from: plan.start, timeout: cluster.timeout)
            where record.offset < plan.end {
                counts[plan.partition, default: 0] += 1
                records.append(
                    ProducerRecord(
                        topic: target,
                        key: record.key,
                        value: record.value,
                        headers: record.headers.filter { $0.key != Self.replayHeader }
                            + [
                                KafkaHeader(
                                    key: Self.replayHeader,
                                    value: "\(record.topic)/\(record.partition)/\(record.offset)"
                                )
                            ]
                    )
                )
            }
        }
        OperatorContext.current.progress("copying \(records.count) record(s) into \(target)")
        _ = try await cluster.publish(records)
        return counts
    }

    static func text(_ result: Result) -> String {
        let rows: [[String]]
        let header: [String]
        if result.into != nil {
            header = ["TOPIC", "PARTITION", "FROM", "TO", "RECORDS"]
            rows = result.partitions.map {
                [$0.topic, String($0.partition), String($0.start), String($0.end), String($0.records)]
            }
        } else {
            header = ["TOPIC", "PARTITION", "COMMITTED", "NEW", "RECORDS"]
            rows = result.partitions.map {
                [
                    $0.topic, String($0.partition), $0.committed.map(String.init) ?? "-", String($0.start),
                    String($0.records),
                ]
            }
        }
        let summary: String
        switch (result.into, result.dryRun) {
        case (let into?, true): summary = "dry run: would copy \(result.records) record(s) into \(into)"
        case (let into?, false): summary = "copied \(result.records) record(s) into \(into)"
        case (nil, true):
            summary =
                "dry run: group \(result.group ?? "") would re-process \(result.records) record(s); nothing changed"
        case (nil, false):
            summary = "group \(result.group ?? "") rewound; it re-processes \(result.records) record(s) when it starts"
        }
        return TextTable.render(header: header, rows: rows) + "\n" + summary
    }
}
