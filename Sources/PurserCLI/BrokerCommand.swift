import ArgumentParser
import Foundation
import Logging
import PurserKafka
import PurserSchema
import ServiceLifecycle

/// `purser broker [--port N] [--brokers N]`: a standalone embedded broker for local multi-process runs.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run an embedded Kafka broker (librdkafka's mock cluster) until SIGTERM.",
        discussion: """
            Prints the bootstrap address on the first line of standard output, then creates every \
            topic declared in the topics folder. Data is kept in memory only.
            """
    )

    @Option(help: "Accept bootstrap connections on this port too (forwarded to the first broker).")
    var port: Int?

    @Option(name: .customLong("brokers"), help: "How many brokers to run.")
    var brokerCount = 1

    @OptionGroup var folder: TopicsFolderOptions

    @Option(help: ArgumentHelp("Prefix prepended to every topic name (env: \(TopicNames.prefixVariable)).", valueName: "prefix"))
    var prefix: String = ProcessInfo.processInfo.environment[TopicNames.prefixVariable] ?? ""

    func validate() throws {
        guard brokerCount >= 1 else { throw ValidationError("--brokers must be at least 1") }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be between 1 and 65535") }
    }

    func run() async throws {
        var logger = Logger(label: "purser.broker")
        logger.logLevel = .warning
        let topics = try folder.loadCatalog().topics(prefix: prefix)
        let kafka = try EmbeddedKafka(brokers: brokerCount, logger: logger)
        for topic in topics {
            try kafka.createTopic(topic.name, partitions: topic.partitions, replicationFactor: topic.replicationFactor)
        }
        var bootstrap = kafka.bootstrapServers
        var services: [any Service] = [kafka]
        if let port {
            let forwarder = try TCPForwarder(port: port, target: kafka.brokers[0], logger: logger)
            bootstrap = "127.0.0.1:\(port),\(bootstrap)"
            services.append(forwarder)
        }
        // Unbuffered, so a parent process reading the first line sees it at once.
        FileHandle.standardOutput.write(Data("\(bootstrap)\n".utf8))
        FileHandle.standardError.write(Data("embedded Kafka: \(brokerCount) broker(s), \(topics.count) topics; SIGTERM stops it\n".utf8))
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
