import ArgumentParser
import Foundation
import PurserJSON
import PurserSchema

/// `purser topics`: the topic declarations of `topics/` and the contract generated from them.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Print the declared topics or regenerate their JSON Schemas and AsyncAPI document.",
        subcommands: [TopicsList.self, TopicsSchemas.self, TopicsApply.self]
    )
}

/// Where the topic declarations live; shared by every `purser topics` subcommand.
struct TopicsFolderOptions: ParsableArguments {
    /// The environment variable that overrides the default folder.
    static let variable = "TOPICS_DIR"

    @Option(
        name: .customLong("topics-dir"),
        help: ArgumentHelp("Folder of the topic declarations (env: \(variable)).", valueName: "path")
    )
    var path: String = ProcessInfo.processInfo.environment[variable] ?? "topics"

    var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

    func loadCatalog() throws -> TopicCatalog { try TopicCatalog.load(from: url) }
}

/// `purser topics list [--prefix P] [--json]`.
struct TopicsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print every declared topic with its partitions, replication, retention and message types."
    )

    @OptionGroup var folder: TopicsFolderOptions

    @Option(
        help: ArgumentHelp("Prefix prepended to every name (env: \(TopicNames.prefixVariable)).", valueName: "prefix")
    )
    var prefix: String = ProcessInfo.processInfo.environment[TopicNames.prefixVariable] ?? ""

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        print(try output(), terminator: "")
    }

    /// What `run()` prints: the table or the JSON, ending with a newline.
    func output() throws -> String {
        let topics = try folder.loadCatalog().topics(prefix: prefix)
        return json ? Self.json(topics).prettyPrinted() : Self.table(topics) + "\n"
    }

    static func json(_ topics: [TopicDeclaration]) -> JSONValue {
        .array(
            topics.map { topic in
                [
                    "name": .string(topic.name),
                    "visibility": .string(topic.visibility),
                    "summary": .string(topic.summary),
                    "partitions": .number(String(topic.partitions)),
                    "replicationFactor": .number(String(topic.replicationFactor)),
                    "key": .string(topic.key),
                    "configs": .object(
                        JSONObject(topic.configs.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
                    ),
                    "messageTypes": .array(topic.messageTypes.map { .string($0.rawValue) }),
                    "producers": .array(topic.producers.map(JSONValue.string)),
                    "consumers": .array(topic.consumers.map(JSONValue.string)),
                ]
            }
        )
    }

    static func table(_ topics: [TopicDeclaration]) -> String {
        let header = ["TOPIC", "VISIBILITY", "PARTITIONS", "RF", "CLEANUP", "RETENTION", "MESSAGE TYPES"]
        let rows = topics.map { topic in
            [
                topic.name, topic.visibility, String(topic.partitions), String(topic.replicationFactor),
                topic.configs["cleanup.policy"] ?? "delete", retention(topic.configs["retention.ms"]),
                topic.messageTypes.isEmpty
                    ? "(original records)" : topic.messageTypes.map(\.rawValue).joined(separator: ", "),
            ]
        }
        return TextTable.render(header: header, rows: rows)
    }

    /// `retention.ms` in whole days or hours where it divides evenly.
    static func retention(_ milliseconds: String?) -> String {
        guard let milliseconds, let value = Int64(milliseconds) else { return "-" }
        if value < 0 { return "forever" }
        if value % 86_400_000 == 0 { return "\(value / 86_400_000)d" }
        if value % 3_600_000 == 0 { return "\(value / 3_600_000)h" }
        return "\(value)ms"
    }
}

/// `purser topics schemas [--check]`.
struct TopicsSchemas: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schemas",
        abstract: "Regenerate topics/schemas/*.json and topics/asyncapi.yaml from the Swift message types.",
        discussion: "With --check nothing is written; the command fails when a file is out of date."
    )

    @OptionGroup var folder: TopicsFolderOptions

    @Flag(help: "Only report files that differ from the generated ones; exit 1 if any does.")
    var check = false

    func run() async throws {
        let report = try synchronize()
        for line in report.lines { print(line) }
        if check, report.differences > 0 {
            FileHandle.standardError.write(
                Data("\(report.differences) file(s) differ; run `purser topics schemas`\n".utf8)
            )
            throw ExitCode.failure
        }
    }

    /// Compares the generated files with the folder and, unless checking, rewrites the ones that
    /// differ and removes schemas nothing generates.
    /// - Returns: a line per file (`unchanged`, `wrote`/`outdated`, `removed`/`extra`) and how
    ///   many differed.
    func synchronize() throws -> (lines: [String], differences: Int) {
        let generated = try ContractDocuments.files(catalog: folder.loadCatalog())
        let schemasURL = folder.url.appendingPathComponent(ContractDocuments.schemasFolder, isDirectory: true)
        let existingSchemas = (try? FileManager.default.contentsOfDirectory(atPath: schemasURL.path)) ?? []
        let stale = existingSchemas.map { "\(ContractDocuments.schemasFolder)/\($0)" }
            .filter { path in !generated.contains { $0.path == path } }
            .sorted()

        var lines: [String] = []
        var differences = 0
        for file in generated {
            let url = folder.url.appendingPathComponent(file.path)
            if (try? String(contentsOf: url, encoding: .utf8)) == file.contents {
                lines.append("unchanged  \(file.path)")
                continue
            }
            differences += 1
            if check {
                lines.append("outdated   \(file.path)")
            } else {
                try FileManager.default.createDirectory(at: schemasURL, withIntermediateDirectories: true)
                try Data(file.contents.utf8).write(to: url, options: .atomic)
                lines.append("wrote      \(file.path)")
            }
        }
        for path in stale {
            differences += 1
            if check {
                lines.append("extra      \(path)")
            } else {
                try FileManager.default.removeItem(at: folder.url.appendingPathComponent(path))
                lines.append("removed    \(path)")
            }
        }
        return (lines, differences)
    }
}
