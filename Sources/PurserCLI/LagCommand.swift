import ArgumentParser
import Foundation
import PurserKafka
import PurserSchema

/// `purser lag [--group G] [--json]`: how far each consumer group is behind, per partition.
struct LagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lag",
        abstract: "Print each group's committed offset, high watermark and lag per topic partition.",
        discussion:
            "Without --group: every worker group, purser-<worker>. Shown: every partition of each topic the group committed on (one it never committed on counts from the partition's start)."
    )

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "A consumer group; repeat for several. Default: every worker group.")
    var group: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    struct Row: Codable, Equatable {
        var group: String
        var topic: String
        var partition: Int32
        /// The next offset the group will read; `nil` when it never committed on the partition (it reads from the start).
        var committed: Int64?
        var highWatermark: Int64
        /// Records not yet consumed.
        var lag: Int64
    }

    func run() async throws {
        let context = OperatorContext.current
        let cluster = try await OperatorKafka.connect(kafka)
        let groups = group.isEmpty ? TopicNames.Worker.all.map { "purser-\($0)" } : group
        let rows = try await Self.rows(groups: groups, cluster: cluster)
        if json {
            context.write(try JSONOutput.text(rows))
        } else {
            context.write(Self.table(rows, groups: groups))
        }
    }

    /// One row per partition of each topic a group has committed on, also the partitions of that topic it never
    /// committed on (one stuck on its first record would otherwise not show); a group with no commit gets one
    /// row without a topic, so it still shows.
    static func rows(groups: [String], cluster: OperatorKafka) async throws -> [Row] {
        let topics = cluster.partitionCounts.keys.sorted()
        var rows: [Row] = []
        for group in groups {
            let committed = try await cluster.admin.committedOffsets(
                group: group,
                topics: topics,
                timeout: cluster.timeout
            )
            let consumed = Set(committed.filter { $0.offset >= 0 }.map(\.topicPartition.topic))
            for position in committed where consumed.contains(position.topicPartition.topic) {
                let (low, high) = try await cluster.admin.watermarks(position.topicPartition, timeout: cluster.timeout)
                let offset = position.offset >= 0 ? position.offset : nil
                rows.append(
                    Row(
                        group: group,
                        topic: position.topicPartition.topic,
                        partition: position.topicPartition.partition,
                        committed: offset,
                        highWatermark: high,
                        lag: max(0, high - (offset ?? low))
                    )
                )
            }
        }
        return rows
    }

    static func table(_ rows: [Row], groups: [String]) -> String {
        var cells = rows.map { row in
            [
                row.group, row.topic, String(row.partition), row.committed.map(String.init) ?? "-",
                String(row.highWatermark), String(row.lag),
            ]
        }
        for group in groups where !rows.contains(where: { $0.group == group }) {
            cells.append([group, "(no committed offsets)", "-", "-", "-", "-"])
        }
        return TextTable.render(header: ["GROUP", "TOPIC", "PARTITION", "COMMITTED", "HIGH", "LAG"], rows: cells)
    }
}

/// JSON for scripts: pretty-printed, keys sorted, so output is stable.
enum JSONOutput {
    static func text(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
