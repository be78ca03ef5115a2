import Foundation
import Yams

/// One Kafka topic as declared in `topics/`.
public struct TopicDeclaration: Sendable, Hashable, Codable {
    /// The name without `TOPIC_PREFIX`.
    public var name: String
    /// `public` (other teams consume it), `internal` (between Purser processes) or `ops`.
    public var visibility: String
    public var summary: String
    public var partitions: Int
    /// Replicas on a production cluster; a smaller cluster (or the embedded broker) caps it.
    public var replicationFactor: Int
    /// The record key: `customerId` on every topic.
    public var key: String
    /// Topic configs (`cleanup.policy`, `retention.ms`, …), as Kafka takes them: strings.
    public var configs: [String: String]
    public var messageTypes: [EventType]
    public var producers: [String]
    public var consumers: [String]

    /// This declaration under `prefix` (the deployment's `TOPIC_PREFIX`).
    public func withPrefix(_ prefix: String) -> TopicDeclaration {
        var copy = self
        copy.name = prefix + name
        return copy
    }
}

/// Every topic declared in the `topics/` folder, validated against the contract.
///
/// Each `*.yaml` file there except ``asyncAPIFile`` declares one topic; a file whose `name`
/// contains `{worker}` declares one topic per entry of its `workers` list (the dead-letter
/// topics), with `{worker}` replaced in every text field.
public struct TopicCatalog: Sendable, Hashable {
    /// Sorted by name.
    public var topics: [TopicDeclaration]

    /// The AsyncAPI document in the same folder, which is not a topic declaration.
    public static let asyncAPIFile = "asyncapi.yaml"
    static let workerPlaceholder = "{worker}"

    /// Reads and validates every declaration in `directory`.
    /// - Throws: ``TopicCatalogError`` naming the file and the problem.
    public static func load(from directory: URL) throws(TopicCatalogError) -> TopicCatalog {
        let fileNames: [String]
        do {
            fileNames = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw TopicCatalogError(
                file: directory.path,
                reason: "cannot list the folder: \(error.localizedDescription)"
            )
        }
        var files: [(name: String, contents: String)] = []
        for fileName in fileNames.sorted() where fileName.hasSuffix(".yaml") && fileName != asyncAPIFile {
            let url = directory.appendingPathComponent(fileName)
            do {
                files.append((fileName, try String(contentsOf: url, encoding: .utf8)))
            } catch {
                throw TopicCatalogError(file: fileName, reason: "cannot read it: \(error.localizedDescription)")
            }
        }
        return try TopicCatalog(files: files)
    }

    /// Parses and validates declarations given as (file name, YAML text) pairs.
    /// - Throws: ``TopicCatalogError`` naming the file and the problem.
    public init(files: [(name: String, contents: String)]) throws(TopicCatalogError) {
        var topics: [TopicDeclaration] = []
        var origin: [String: String] = [:]
        for file in files {
            for topic in try Self.declarations(in: file.contents, file: file.name) {
                if let first = origin[topic.name] {
                    throw TopicCatalogError(
                        file: file.name,
                        reason: "topic \(topic.name) is already declared in \(first)"
                    )
                }
                origin[topic.name] = file.name
                topics.append(topic)
            }
        }
        let missing = Self.contractTopics.filter { origin[$0] == nil }
        guard missing.isEmpty else {
            throw TopicCatalogError(file: nil, reason: "no declaration for \(missing.joined(separator: ", "))")
        }
        // Workers join and rebuild state across these topics partition by partition, which only
        // works when every customer lands on the same partition number everywhere.
        let coPartitioned = topics.filter { $0.visibility != "ops" }
        if let first = coPartitioned.first, let odd = coPartitioned.first(where: { $0.partitions != first.partitions })
        {
            throw TopicCatalogError(
                file: origin[odd.name],
                reason: "\(odd.name) has \(odd.partitions) partitions but \(first.name) has \(first.partitions); "
                    + "topics keyed by customer must be co-partitioned"
            )
        }
        self.topics = topics.sorted { $0.name < $1.name }
    }

    /// Every topic the contract names, dead-letter topics included.
    public static var contractTopics: [String] {
        TopicNames.Base.all + TopicNames.Worker.all.map(TopicNames.Base.deadLetter(worker:))
    }

    /// The declaration named `name` (without prefix).
    public func topic(named name: String) -> TopicDeclaration? {
        topics.first { $0.name == name }
    }

    /// Every declaration under `prefix`.
    public func topics(prefix: String) -> [TopicDeclaration] {
        topics.map { $0.withPrefix(prefix) }
    }

    /// The shape of one YAML file.
    private struct File: Decodable {
        var name: String?
        var workers: [String]?
        var visibility: String?
        var summary: String?
        var partitions: Int?
        var replicationFactor: Int?
        var key: String?
        var configs: [String: String]?
        var messageTypes: [String]?
        var producers: [String]?
        var consumers: [String]?
    }

    private static func declarations(in contents: String, file fileName: String) throws(TopicCatalogError)
        -> [TopicDeclaration]
    {
        func reject(_ reason: String) -> TopicCatalogError { TopicCatalogError(file: fileName, reason: reason) }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: contents)
        } catch {
            throw reject("not a topic declaration: \(Self.describe(error))")
        }
        guard let name = file.name, !name.isEmpty else { throw reject("name is missing") }
        guard let visibility = file.visibility, ["public", "internal", "ops"].contains(visibility) else {
            throw reject("visibility must be public, internal or ops")
        }
        guard let partitions = file.partitions, partitions > 0 else {
            throw reject("partitions must be a positive integer")
        }
        guard let replicationFactor = file.replicationFactor, replicationFactor > 0 else {
            throw reject("replicationFactor must be a positive integer")
        }
        guard file.key == "customerId" else { throw reject("key must be customerId") }
        guard let messageTypes = file.messageTypes else { throw reject("messageTypes is missing") }
        if let unknown = messageTypes.first(where: { !EventType(rawValue: $0).isKnown }) {
            throw reject("message type \(unknown) is not defined in the message schema")
        }
        let declaration = TopicDeclaration(
            name: name,
            visibility: visibility,
            summary: file.summary ?? "",
            partitions: partitions,
            replicationFactor: replicationFactor,
            key: "customerId",
            configs: file.configs ?? [:],
            messageTypes: messageTypes.map(EventType.init(rawValue:)),
            producers: file.producers ?? [],
            consumers: file.consumers ?? []
        )
        guard name.contains(workerPlaceholder) else {
            guard file.workers == nil else { throw reject("workers is only allowed with {worker} in the name") }
            try validateName(name, file: fileName)
            return [declaration]
        }
        guard let workers = file.workers, !workers.isEmpty else {
            throw reject("{worker} in the name needs a workers list")
        }
        return try workers.map { worker throws(TopicCatalogError) in
            let expanded = declaration.replacingWorker(with: worker)
            try validateName(expanded.name, file: fileName)
            return expanded
        }
    }

    /// Kafka's legal topic characters, and no more than its 249-character limit.
    private static func validateName(_ name: String, file: String) throws(TopicCatalogError) {
        let legal = name.utf8.allSatisfy { byte in
            (97...122).contains(byte) || (65...90).contains(byte) || (48...57).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard legal, name.utf8.count <= 249 else {
            throw TopicCatalogError(file: file, reason: "\(name) is not a legal Kafka topic name")
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? DecodingError {
            switch error {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
                .dataCorrupted(let context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
            @unknown default: break
            }
        }
        return "\(error)"
    }
}

extension TopicDeclaration {
    fileprivate func replacingWorker(with worker: String) -> TopicDeclaration {
        func replace(_ text: String) -> String {
            text.replacingOccurrences(of: TopicCatalog.workerPlaceholder, with: worker)
        }
        var copy = self
        copy.name = replace(name)
        copy.summary = replace(summary)
        copy.producers = producers.map(replace)
        copy.consumers = consumers.map(replace)
        return copy
    }
}

/// Why the `topics/` folder does not declare a valid catalog.
public struct TopicCatalogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file at fault, when one is.
    public var file: String?
    public var reason: String

    public var description: String {
        file.map { "topics/\($0): \(reason)" } ?? "topics/: \(reason)"
    }
}
