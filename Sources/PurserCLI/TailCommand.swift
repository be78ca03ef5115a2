import ArgumentParser
import PurserJSON
import PurserKafka
import PurserSchema

/// `purser tail [TOPIC | --all] [--from TIME] [--customer ID] [--trace ID] [--limit N] [--follow] [--json]`.
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print a topic's events, one readable line each (or the CloudEvent with --json).",
        discussion: """
            Without --from: the last --limit events (default 20). With --from: every event from that \
            time on, up to --limit. With --follow: keep printing new events (from --from, or from now) \
            until interrupted or --limit events were printed. TOPIC may omit TOPIC_PREFIX. Without TOPIC \
            (or with --all): every pipeline topic, dead letters included, merged in time order; with \
            --trace that is one webhook's whole path.
            """
    )

    @OptionGroup var kafka: KafkaOptions

    @Argument(help: "The topic, e.g. deposits.credited.v1; every pipeline topic when omitted.")
    var topic: String?

    @Flag(help: "Read every pipeline topic (the default without TOPIC).")
    var all = false

    @Option(help: "Start at this time: RFC 3339, or a duration before now such as 10m, 2h, 7d.")
    var from: TimeArgument?

    @Option(help: "Only events of this customer (record key or CloudEvent subject).")
    var customer: String?

    @Option(
        help: "Only events of this trace: a 32-hex-digit trace id or a whole traceparent.",
        transform: { text in
            guard let traceID = TraceFilter.traceID(text) else {
                throw ValidationError("--trace \(text) is neither a trace id (32 hex digits) nor a traceparent")
            }
            return traceID
        }
    )
    var trace: String?

    @Option(help: "Print at most this many events.")
    var limit: Int?

    @Flag(help: "Keep printing events as they arrive.")
    var follow = false

    @Flag(help: "Print each event's CloudEvent JSON, one per line.")
    var json = false

    /// How many events `tail` without `--from` or `--follow` prints.
    static let defaultLimit = 20

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if all, topic != nil { throw ValidationError("give a TOPIC or --all, not both") }
        if follow, topic == nil { throw ValidationError("--follow needs a TOPIC") }
    }

    func run() async throws {
        let context = OperatorContext.current
        let cluster = try await OperatorKafka.connect(kafka)
        let names = try topic.map { [cluster.topicName($0)] } ?? cluster.pipelineTopics()
        var starts: [TopicPartitionOffset] = []
        if let from {
            for name in names {
                starts += try await cluster.admin.offsets(
                    forTimestamp: from.timestamp().millisecondsSince1970,
                    topic: name,
                    timeout: cluster.timeout
                )
            }
        } else if !follow {
            starts = try names.flatMap { try cluster.partitions(of: $0) }.map {
                TopicPartitionOffset($0, offset: TopicPartitionOffset.beginning)
            }
        }

        if !follow {
            var records: [ConsumerRecord] = []
            for start in starts {
                records += try await cluster.admin.readPartition(
                    start.topicPartition,
                    from: start.offset,
                    timeout: cluster.timeout
                )
            }
            let rank = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
            var shown = records.filter(matches).sorted { Self.timeOrder($0, $1, topicRank: rank) }
            if from == nil, trace == nil || limit != nil {
                shown = Array(shown.suffix(limit ?? Self.defaultLimit))
            } else if let limit {
                shown = Array(shown.prefix(limit))
            }
            for record in shown { context.write(line(record)) }
            return
        }

        let name = names[0]
        let partitions = try cluster.partitions(of: name)
        if from == nil {
            starts = try await partitions.asyncMap { partition in
                TopicPartitionOffset(
                    partition,
                    offset: try await cluster.admin.watermarks(partition, timeout: cluster.timeout).high
                )
            }
        }

        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: cluster.clientOptions.bootstrapServers,
            groupID: nil
        )
        configuration.client = cluster.clientOptions
        configuration.isAutoCommitEnabled = false
        let consumer = try KafkaConsumer(configuration: configuration, logger: OperatorContext.logger)
        do {
            try consumer.assign(starts)
            context.progress("following \(name) (\(partitions.count) partitions); interrupt to stop")
            var printed = 0
            for try await record in consumer.records where matches(record) {
                context.write(line(record))
                printed += 1
                if let limit, printed >= limit { break }
            }
        } catch {
            await consumer.shutdown()
            throw error
        }
        await consumer.shutdown()
    }

    private func matches(_ record: ConsumerRecord) -> Bool {
        let event = record.value.flatMap { try? CloudEventEnvelope(recordValue: $0) }
        if let trace, !TraceFilter.record(record, event: event, belongsTo: trace) { return false }
        guard let customer else { return true }
        if record.key.map({ String(decoding: $0, as: UTF8.self) }) == customer { return true }
        return event?.subject == customer
    }

    private func line(_ record: ConsumerRecord) -> String {
        json ? EventLine.json(record) : EventLine.text(record)
    }

    /// By record time, then by the topic's place in the pipeline (so a hop within the same millisecond
    /// still follows its input), then partition and offset, so equal times keep a stable order.
    static func timeOrder(_ lhs: ConsumerRecord, _ rhs: ConsumerRecord, topicRank: [String: Int] = [:]) -> Bool {
        (lhs.timestampMilliseconds ?? 0, topicRank[lhs.topic] ?? 0, lhs.partition, lhs.offset) < (
            rhs.timestampMilliseconds ?? 0, topicRank[rhs.topic] ?? 0, rhs.partition, rhs.offset
        )
    }
}

/// How `tail` and `dlq` show one record.
enum EventLine {
    /// The `data` members worth a glance, in this order.
    static let keyFields = [
        "amount", "currency", "transactionId", "eventType", "transactionState", "complianceState", "blocked",
        "address", "reason",
    ]

    /// `time  type  customer=…  amount=… currency=…  [topic/partition/offset]`.
    static func text(_ record: ConsumerRecord) -> String {
        let position = "[\(record.topic)/\(record.partition)/\(record.offset)]"
        guard let value = record.value else { return "(tombstone) key=\(keyText(record))  \(position)" }
        guard let event = try? CloudEventEnvelope(recordValue: value) else {
            return "(not a CloudEvent, \(value.count) bytes) key=\(keyText(record))  \(position)"
        }
        var parts = [
            event.time?.description ?? "-", event.type.rawValue, "customer=\(event.subject ?? keyText(record))",
        ]
        parts += keyFields.compactMap { field in
            guard let member = event.data?[field] else { return nil }
            return "\(field)=\(member.stringValue ?? member.numberLiteral ?? member.jsonText)"
        }
        parts.append(position)
        return parts.joined(separator: "  ")
    }

    /// The CloudEvent as it is stored, on one line; values that are not JSON as a JSON string.
    static func json(_ record: ConsumerRecord) -> String {
        guard let value = record.value else { return "null" }
        if let event = try? CloudEventEnvelope(recordValue: value) {
            return String(decoding: event.recordValue(), as: UTF8.self)
        }
        return JSONValue.string(String(decoding: value, as: UTF8.self)).jsonText
    }

    static func keyText(_ record: ConsumerRecord) -> String {
        record.key.map { String(decoding: $0, as: UTF8.self) } ?? "-"
    }
}

extension Sequence {
    /// `transform` applied to each element in order, one at a time.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
