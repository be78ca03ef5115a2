import ArgumentParser
import Foundation
import PurserKafka
import PurserRuntime
import PurserSchema

/// `purser dlq list|show|redrive --worker W [--since TIME] [--id ID]`: dead letters of one worker.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect and re-publish the dead letters of a worker (purser.dlq.<worker>.v1).",
        subcommands: [DeadLetterList.self, DeadLetterShow.self, DeadLetterRedrive.self]
    )
}

/// Which dead letters a `dlq` subcommand works on.
struct DeadLetterSelection: ParsableArguments {
    @OptionGroup var kafka: KafkaOptions

    @Option(help: ArgumentHelp("The worker: \(TopicNames.Worker.all.joined(separator: ", ")).", valueName: "worker"))
    var worker: String

    @Option(help: "Only dead letters written at or after this time: RFC 3339 or a duration before now (10m, 2h, 7d).")
    var since: TimeArgument?

    @Option(help: "Only this dead letter: its position on the dead-letter topic (partition/offset) or its event id.")
    var id: [String] = []

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        guard TopicNames.Worker.all.contains(worker) else {
            throw ValidationError(
                "unknown worker \"\(worker)\"; one of \(TopicNames.Worker.all.joined(separator: ", "))"
            )
        }
    }

    /// With `--json`, writes the letters' summaries and answers `true`.
    func wroteJSON(_ letters: [StoredDeadLetter]) throws -> Bool {
        if json { OperatorContext.current.write(try JSONOutput.text(letters.map(\.summary))) }
        return json
    }

    /// The selected dead letters, oldest first, with the cluster they were read from.
    func load() async throws -> (cluster: OperatorKafka, letters: [StoredDeadLetter]) {
        let cluster = try await OperatorKafka.connect(kafka)
        let topic = cluster.configuration.topics.deadLetter(worker: worker)
        var letters: [StoredDeadLetter] = []
        for record in try await cluster.readAll(topic) {
            guard let letter = DeadLetter(deadLetterRecord: InputRecord(record)) else {
                OperatorContext.current.progress(
                    "skipping \(topic)/\(record.partition)/\(record.offset): no dead-letter headers"
                )
                continue
            }
            letters.append(StoredDeadLetter(position: "\(record.partition)/\(record.offset)", letter: letter))
        }
        let since = since?.timestamp().date
        let selected = letters.filter { stored in
            (since.map { stored.letter.time >= $0 } ?? true)
                && (id.isEmpty || id.contains(stored.position) || stored.eventID.map(id.contains) == true)
        }
        let unknown = id.filter { wanted in !selected.contains { $0.position == wanted || $0.eventID == wanted } }
        if !unknown.isEmpty {
            let scope = since == nil ? "" : " in the --since window"
            throw OperatorError("no dead letter of \(worker)\(scope) has the id \(unknown.joined(separator: ", ")) (see purser dlq list)")
        }
        return (cluster, selected.sorted { $0.letter.time < $1.letter.time })
    }
}

/// A dead letter and where it sits on the dead-letter topic.
struct StoredDeadLetter {
    /// `partition/offset` on the dead-letter topic: the id `--id` takes.
    var position: String
    var letter: DeadLetter

    var event: CloudEventEnvelope? { letter.original.value.flatMap { try? CloudEventEnvelope(recordValue: $0) } }
    var eventID: String? { event?.id }
    var origin: String { "\(letter.original.topic)/\(letter.original.partition)/\(letter.original.offset)" }

    /// What `--json` prints for it.
    var summary: Summary {
        Summary(
            id: position,
            time: Timestamp(letter.time).description,
            worker: letter.worker,
            reason: letter.reason.rawValue,
            attempts: letter.attempts,
            error: letter.error,
            originTopic: letter.original.topic,
            originPartition: letter.original.partition,
            originOffset: letter.original.offset,
            key: letter.original.keyString,
            eventID: eventID,
            eventType: event?.type.rawValue
        )
    }

    struct Summary: Codable, Equatable {
        var id: String
        var time: String
        var worker: String
        var reason: String
        var attempts: Int
        var error: String
        var originTopic: String
        var originPartition: Int32
        var originOffset: Int64
        var key: String?
        var eventID: String?
        var eventType: String?
    }
}

/// `purser dlq list`.
struct DeadLetterList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "One line per dead letter.")

    @OptionGroup var selection: DeadLetterSelection

    func run() async throws {
        let letters = try await selection.load().letters
        let context = OperatorContext.current
        if try selection.wroteJSON(letters) { return }
        let rows = letters.map { stored in
            let error = stored.letter.error
            return [
                stored.position, Timestamp(stored.letter.time).description, String(stored.letter.attempts),
                stored.letter.reason.rawValue, stored.origin, stored.event?.type.rawValue ?? "-",
                error.count > 80 ? error.prefix(79) + "…" : error,
            ]
        }
        context.write(
            TextTable.render(header: ["ID", "TIME", "ATTEMPTS", "REASON", "ORIGIN", "TYPE", "ERROR"], rows: rows)
        )
        context.progress("\(letters.count) dead letter(s)")
    }
}

/// `purser dlq show`.
struct DeadLetterShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Everything about each dead letter: full error, origin, headers and the original event."
    )

    @OptionGroup var selection: DeadLetterSelection

    func run() async throws {
        let letters = try await selection.load().letters
        let context = OperatorContext.current
        if try selection.wroteJSON(letters) { return }
        for stored in letters {
            let letter = stored.letter
            var lines = [
                "id:        \(stored.position)",
                "time:      \(Timestamp(letter.time))",
                "worker:    \(letter.worker)",
                "reason:    \(letter.reason.rawValue) after \(letter.attempts) attempt(s)",
                "error:     \(letter.error)",
                "origin:    \(stored.origin)",
                "key:       \(letter.original.keyString ?? "-")",
            ]
            lines += letter.original.headers.map {
                "header:    \($0.name)=\($0.stringValue ?? "<\($0.value?.count ?? 0) bytes>")"
            }
            lines.append("value:     " + (letter.original.value.map { String(decoding: $0, as: UTF8.self) } ?? "null"))
            context.write(lines.joined(separator: "\n") + "\n")
        }
    }
}

/// `purser dlq redrive`.
struct DeadLetterRedrive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redrive",
        abstract: "Publish the original records again on their original topics.",
        discussion: """
            Each selected dead letter's original key, value and headers (without the purser-dlq-* headers) \
            go back to the topic it came from. Redriving the same dead letter twice publishes it twice; \
            the workers are idempotent (event ids are deterministic and deduplicated), so downstream \
            effects such as a credit happen once.
            """
    )

    @OptionGroup var selection: DeadLetterSelection

    struct Sent: Codable, Equatable {
        var id: String
        var eventID: String?
        var topic: String
        var partition: Int32
        var offset: Int64
    }

    func run() async throws {
        let (cluster, letters) = try await selection.load()
        let context = OperatorContext.current
        context.progress("redriving \(letters.count) dead letter(s) of \(selection.worker)")
        var sent: [Sent] = []
        do {
            _ = try await cluster.publish(letters.map { ProducerRecord($0.letter.redriveRecord) }) { index, report in
                let item = Sent(
                    id: letters[index].position,
                    eventID: letters[index].eventID,
                    topic: report.topic,
                    partition: report.partition,
                    offset: report.offset
                )
                sent.append(item)
                // As it happens, so a failure later leaves the operator knowing what was redriven.
                if !selection.json { context.write("\(item.id) -> \(item.topic)/\(item.partition)/\(item.offset)  event \(item.eventID ?? "-")") }
            }
        } catch {
            let done = sent.isEmpty ? "none was redriven" : "redriven before it: " + sent.map(\.id).joined(separator: ", ")
            throw OperatorError("\(error); \(done)")
        }
        if selection.json {
            context.write(try JSONOutput.text(sent))
            return
        }
        let topics = Set(sent.map(\.topic)).sorted().joined(separator: ", ")
        context.write("redrove \(sent.count) dead letter(s)" + (sent.isEmpty ? "" : " to \(topics)"))
    }
}
