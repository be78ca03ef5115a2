import ArgumentParser
import Foundation
import Logging
import PurserIngest
import PurserKafka
import PurserSchema
import ServiceLifecycle

/// `purser-ingest`: receives Calypso webhooks and publishes them to `calypso.webhooks.v1`.
///
/// Reads `KAFKA_BROKERS` (required), `KAFKA_PROPERTIES_FILE`, `TOPIC_PREFIX` and the `INGEST_*` and
/// `CALYPSO_WEBHOOK_*` variables (see ``IngestConfiguration/init(environment:)``); flags override them.
public struct IngestCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "purser-ingest",
        abstract: "Receive Calypso webhooks, verify them and publish them to Kafka."
    )

    @Option(help: "Kafka bootstrap servers, host:port[,host:port]. Overrides KAFKA_BROKERS.")
    var brokers: String?

    @Option(help: "HTTP port. Overrides INGEST_PORT.")
    var port: Int?

    @Option(help: "Spool directory; empty disables the spool. Overrides INGEST_SPOOL_DIR.")
    var spoolDir: String?

    public init() {}

    public func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "purser-ingest")
        logger.logLevel = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info

        var configuration = try IngestConfiguration(environment: environment)
        if let port { configuration.port = port }
        if let spoolDir { configuration.spoolDirectory = spoolDir.isEmpty ? nil : spoolDir }
        let brokerList = KafkaProperties.brokers(brokers ?? environment["KAFKA_BROKERS"] ?? "")
        guard !brokerList.isEmpty, brokerList != ["embedded"] else {
            throw ValidationError("KAFKA_BROKERS must name the Kafka bootstrap servers (embedded is for purser run)")
        }

        let producer = try KafkaProducer(
            configuration: IngestService.producerConfiguration(
                brokers: brokerList,
                publishTimeout: configuration.publishTimeout,
                properties: try KafkaProperties.fromEnvironment(environment)
            ),
            logger: logger
        )
        let ingest = try IngestService(
            configuration: configuration,
            topic: TopicNames(environment: environment).webhooks,
            producer: producer,
            logger: logger
        )
        // Shutdown runs in reverse: ingest stops accepting and drains requests, then the producer flushes.
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: producer), .init(service: ingest)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(25)
        try await ServiceGroup(configuration: groupConfiguration).run()
    }
}
