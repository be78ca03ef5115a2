import ArgumentParser
import Foundation
import Logging
import PurserKafka
import PurserSchema

/// `purser topics apply`: create the declared topics that do not exist yet.
struct TopicsApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Create every declared topic that does not exist yet; existing topics are left as they are.",
        discussion: "Reads KAFKA_BROKERS (host:port list) and KAFKA_PROPERTIES_FILE."
    )

    @OptionGroup var folder: TopicsFolderOptions

    @Option(help: ArgumentHelp("Prefix prepended to every name (env: \(TopicNames.prefixVariable)).", valueName: "prefix"))
    var prefix: String = ProcessInfo.processInfo.environment[TopicNames.prefixVariable] ?? ""

    @Option(name: .customLong("kafka-brokers"), help: ArgumentHelp("Bootstrap servers (env: KAFKA_BROKERS).", valueName: "host:port,…"))
    var brokers: String = ProcessInfo.processInfo.environment["KAFKA_BROKERS"] ?? ""

    @Flag(help: "Print JSON instead of lines.")
    var json = false

    func run() async throws {
        let servers = KafkaProperties.brokers(brokers)
        guard !servers.isEmpty, brokers != "embedded" else {
            throw ValidationError("KAFKA_BROKERS (or --kafka-brokers) must list host:port bootstrap servers")
        }
        var options = KafkaClientOptions(bootstrapServers: servers)
        options.additionalProperties = try KafkaProperties.fromEnvironment()
        var logger = Logger(label: "purser.topics")
        logger.logLevel = .error
        let declared = try folder.loadCatalog().topics(prefix: prefix)
        let results = try await Self.create(declared, options: options, logger: logger)
        let lines = declared.map { topic -> (name: String, state: String, partitions: Int) in
            switch results[topic.name] {
            case .created?: (topic.name, "created", topic.partitions)
            case .alreadyExists(let partitions)?: (topic.name, "present", partitions)
            case nil: (topic.name, "unknown", 0)
            }
        }
        func declaredPartitions(_ name: String) -> Int { declared.first { $0.name == name }?.partitions ?? 0 }
        if json {
            let items = lines.map {
                #"{"name":"\#($0.name)","state":"\#($0.state)","partitions":\#($0.partitions),"declaredPartitions":\#(declaredPartitions($0.name))}"#
            }
            print("[" + items.joined(separator: ",") + "]")
        } else {
            for line in lines {
                let note = line.partitions != declaredPartitions(line.name) ? " (declared \(declaredPartitions(line.name)))" : ""
                print("\(line.state.padding(toLength: 8, withPad: " ", startingAt: 0)) \(line.name) \(line.partitions) partitions\(note)")
            }
        }
        // Workers rebuild their state from co-partitioned topics: a different partition count is not a detail.
        let mismatched = lines.filter { $0.state == "present" && $0.partitions != declaredPartitions($0.name) }
        if !mismatched.isEmpty {
            throw OperatorError(
                "partition counts differ from topics/: "
                    + mismatched.map { "\($0.name) has \($0.partitions), declared \(declaredPartitions($0.name))" }.joined(separator: "; ")
                    + ". Workers need co-partitioned topics; fix the topics before starting them."
            )
        }
    }

    /// Creates the declared topics that do not exist yet.
    /// - Returns: what happened to each topic, by name.
    static func create(
        _ declared: [TopicDeclaration],
        options: KafkaClientOptions,
        logger: Logger
    ) async throws -> [String: KafkaAdmin.TopicCreation] {
        let admin = try KafkaAdmin(options: options, logger: logger)
        return try await admin.createTopics(
            declared.map {
                KafkaAdmin.TopicSpecification(
                    name: $0.name,
                    partitions: $0.partitions,
                    replicationFactor: $0.replicationFactor,
                    configs: $0.configs
                )
            }
        )
    }
}
