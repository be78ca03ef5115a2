import Calypso
import CalypsoSandbox
import Foundation
import Logging
import PurserIngest
import PurserKafka
import PurserRuntime
import PurserSchema
import PurserWorkers
import ServiceLifecycle

/// Everything `purser run` runs, as one `Service`: the embedded broker (unless `KAFKA_BROKERS` names
/// a cluster) with every topic of `topics/`, ingest, the Calypso sandbox (unless `CALYPSO_API_URL`
/// names a Calypso) with a webhook subscription pointed at ingest, the four workers, and the demo.
///
/// Services start in dependency order and stop in reverse on graceful shutdown: the demo, the
/// workers (they drain and commit), the sandbox, ingest (it finishes its requests), the producer
/// (it flushes), the broker. Ingest and sandbox may bind port 0, so what needs their address is
/// made once they listen (``DeferredServices``).
struct LocalPipeline: Service {
    struct Options: Sendable {
        /// Interface the ingest, sandbox and metrics servers bind.
        var host = "127.0.0.1"
        var topicsFolder: URL
        /// The demo's settings; `nil` runs the pipeline without it.
        var demo: Demo?

        struct Demo: Sendable {
            var timeout: Duration
            /// End the pipeline after the summary instead of running on.
            var exitsAfterSummary: Bool
        }
    }

    /// Where the running pipeline can be reached.
    struct Endpoints: Sendable {
        var kafkaBootstrap: String
        var isBrokerEmbedded: Bool
        var ingestURL: String
        var calypsoURL: String
        var isSandboxInProcess: Bool
        /// `/metrics` of the workers; `nil` until their server listens.
        var workerMetricsURL: String?
    }

    let options: Options
    let environment: EnvironmentReader
    let logger: Logger
    /// Receives every line `purser run` prints (standard output in the command).
    let output: @Sendable (String) -> Void
    /// Called once every service listens.
    var onRunning: @Sendable (Endpoints) -> Void = { _ in }
    var startedAt = ContinuousClock.now
    /// Receives the embedded broker when one starts, for a caller that keeps it beyond ``run()``.
    var onBrokerStarted: @Sendable (EmbeddedKafka) -> Void = { _ in }

    func run() async throws {
        var configuration = try PurserConfiguration(environment: environment, allowsEmbeddedBroker: true)
        let isSandboxInProcess = configuration.calypso.apiURL == nil
        if isSandboxInProcess {
            // The in-process sandbox accepts whatever credentials it is given; make up a demo merchant.
            configuration.calypso.accountID = configuration.calypso.accountID ?? "purser-demo-merchant"
            configuration.calypso.apiKey = configuration.calypso.apiKey ?? Secret(Self.randomHex(32))
            configuration.calypso.apiSecret = configuration.calypso.apiSecret ?? Secret(Self.randomHex(32))
        }
        _ = try configuration.calypso.requireCredentials()
        let ingestConfiguration = try makeIngestConfiguration(
            isBrokerEmbedded: configuration.brokers.isEmbedded,
            isSandboxInProcess: isSandboxInProcess
        )
        let topics = try TopicCatalog.load(from: options.topicsFolder).topics(prefix: configuration.topicPrefix)

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        let isBrokerEmbedded = configuration.brokers.isEmbedded
        if isBrokerEmbedded {
            let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
            for topic in topics {
                try kafka.createTopic(
                    topic.name,
                    partitions: topic.partitions,
                    replicationFactor: topic.replicationFactor
                )
            }
            configuration.brokers = .servers(kafka.brokers)
            services.append(.init(service: kafka))
            onBrokerStarted(kafka)
        } else {
            var client = KafkaClientOptions(bootstrapServers: configuration.brokers.bootstrapServers ?? [])
            client.additionalProperties = configuration.kafkaProperties
            _ = try await TopicsApply.create(topics, options: client, logger: logger)
        }
        let stage = Stage(
            configuration: configuration,
            isBrokerEmbedded: isBrokerEmbedded,
            webhookKeyPair: ingestConfiguration.webhookKeyPairs[0],
            publicTopics: PublicEvent.topics.map { base in
                let name = configuration.topics.name(base)
                return (name, topics.first { $0.name == name }?.partitions ?? 1)
            }
        )

        let producer = try KafkaProducer(
            configuration: IngestService.producerConfiguration(
                brokers: stage.brokers,
                publishTimeout: ingestConfiguration.publishTimeout,
                properties: configuration.kafkaProperties
            ),
            logger: logger
        )
        let ingestPort = Handoff<Int>()
        let ingest = try IngestService(
            configuration: ingestConfiguration,
            topic: configuration.topics.webhooks,
            producer: producer,
            logger: logger,
            onServerRunning: { ingestPort.send($0) }
        )
        let calypso = DeferredServices(
            make: { [self] in
                try calypsoServices(
                    stage,
                    ingestURL: "http://\(options.host):\(try await ingestPort.value())/webhooks/calypso"
                )
            },
            logger: logger
        )
        services += [.init(service: producer), .init(service: ingest), endsGroup(calypso)]
        try await ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger)).run()
    }

    /// What the later stages need to know, settled before anything runs.
    private struct Stage: Sendable {
        /// With the embedded broker's address and the demo merchant, when made up.
        var configuration: PurserConfiguration
        var isBrokerEmbedded: Bool
        /// The pair ingest verifies with; the in-process sandbox signs with it.
        var webhookKeyPair: CalypsoKeyPair
        var publicTopics: [(name: String, partitions: Int)]

        var brokers: [String] { configuration.brokers.bootstrapServers ?? [] }
    }

    /// Once ingest listens: the sandbox with a subscription pointed at it (unless Calypso is elsewhere),
    /// then, once Calypso can be reached, the rest.
    private func calypsoServices(_ stage: Stage, ingestURL: String) throws -> [ServiceGroupConfiguration
        .ServiceConfiguration]
    {
        var sandbox: CalypsoSandbox?
        if stage.configuration.calypso.apiURL == nil {
            let (account, key, secret) = try stage.configuration.calypso.requireCredentials()
            var configuration = SandboxConfiguration(
                account: account,
                apiCredentials: CalypsoKeyPair(key: key.value, secret: secret.value)
            )
            configuration.host = options.host
            configuration.port = try environment.integer("SANDBOX_PORT", in: 0...65535) ?? configuration.port
            configuration.webhookURL = ingestURL
            configuration.webhookKeyPair = stage.webhookKeyPair
            sandbox = CalypsoSandbox(configuration: configuration, logger: logger)
        }
        let application = DeferredServices(
            make: { [self, sandbox] in
                var stage = stage
                let endpoints = Endpoints(
                    kafkaBootstrap: stage.brokers.joined(separator: ","),
                    isBrokerEmbedded: stage.isBrokerEmbedded,
                    ingestURL: ingestURL,
                    calypsoURL: try await sandbox?.baseURL() ?? stage.configuration.calypso.apiURL ?? "",
                    isSandboxInProcess: sandbox != nil
                )
                stage.configuration.calypso.apiURL = endpoints.calypsoURL
                return try applicationServices(stage, endpoints: endpoints)
            },
            logger: logger
        )
        return (sandbox.map { [.init(service: $0)] } ?? []) + [endsGroup(application)]
    }

    /// The workers, the Calypso client they share, and the console (start-up lines and the demo).
    private func applicationServices(_ stage: Stage, endpoints: Endpoints) throws
        -> [ServiceGroupConfiguration.ServiceConfiguration]
    {
        let configuration = stage.configuration
        let calypso = try configuration.calypso.makeClient(maximumConnections: configuration.maxInFlight, logger: logger)
        let workers = PipelineWorkers(configuration: configuration, calypso: calypso, logger: logger)
        var process = WorkerProcess(configuration: configuration, logger: logger)
        process.host = options.host
        let metricsPort = Handoff<Int>()
        let workerServices = process.services(
            workers: try workers.workers(),
            tables: [workers.customers],
            onHealthServerRunning: { metricsPort.send($0) }
        )

        let demo = options.demo.map { demo in
            RunDemo(
                calypso: calypso,
                sandbox: SandboxControlClient(baseURL: endpoints.calypsoURL),
                events: PublicEventReader.Settings(
                    brokers: stage.brokers,
                    kafkaProperties: configuration.kafkaProperties,
                    topics: stage.publicTopics,
                    output: output
                ),
                timeout: demo.timeout,
                startedAt: startedAt,
                output: output,
                logger: logger
            )
        }
        let console = Console { [self] in
            var endpoints = endpoints
            endpoints.workerMetricsURL = "http://\(options.host):\(try await metricsPort.value())/metrics"
            announce(endpoints)
            onRunning(endpoints)
            if let demo {
                do {
                    try await cancelWhenGracefulShutdown { try await demo.run() }
                } catch is CancellationError where Task.isShuttingDownGracefully {
                    return
                }
                if options.demo?.exitsAfterSummary == true { return }
                output(
                    "purser run: still running; send more deposits through \(endpoints.calypsoURL)/sandbox/ or stop with Ctrl-C"
                )
            }
            try? await gracefulShutdown()
        }
        return [.init(service: CalypsoClientLifetime(client: calypso))] + workerServices.map { .init(service: $0) }
            + [endsGroup(console)]
    }

    private func announce(_ endpoints: Endpoints) {
        let broker = endpoints.isBrokerEmbedded ? "embedded Kafka broker" : "Kafka"
        output("purser run: \(broker) at \(endpoints.kafkaBootstrap)")
        output("purser run: ingest listening on \(endpoints.ingestURL)")
        let calypso = endpoints.isSandboxInProcess ? "Calypso sandbox (in-process, demo credentials)" : "Calypso"
        output("purser run: \(calypso) at \(endpoints.calypsoURL)")
        output("purser run: workers running; metrics at \(endpoints.workerMetricsURL ?? "")")
    }

    /// Ingest's settings from the `INGEST_*` variables. With the in-process sandbox and no
    /// `CALYPSO_WEBHOOK_KEY`, a webhook key pair is made up (the sandbox signs with it); on the
    /// embedded broker the spool is off unless `INGEST_SPOOL_DIR` is set, because the broker's data
    /// does not outlive the process anyway.
    private func makeIngestConfiguration(isBrokerEmbedded: Bool, isSandboxInProcess: Bool) throws -> IngestConfiguration
    {
        var variables = environment.variables
        if isSandboxInProcess, environment.string("CALYPSO_WEBHOOK_KEY") == nil,
            environment.string("CALYPSO_WEBHOOK_KEY_FILE") == nil
        {
            variables["CALYPSO_WEBHOOK_KEY"] = Self.randomHex(32)
            variables["CALYPSO_WEBHOOK_SECRET"] = Self.randomHex(32)
            variables["CALYPSO_WEBHOOK_SECRET_FILE"] = nil
        }
        var configuration = try IngestConfiguration(environment: variables)
        configuration.host = options.host
        if isBrokerEmbedded, variables["INGEST_SPOOL_DIR"] == nil {
            configuration.spoolDirectory = nil
        }
        return configuration
    }

    /// A service whose end, normal or not, shuts its group down gracefully (rather than cancelling it).
    private func endsGroup(_ service: some Service) -> ServiceGroupConfiguration.ServiceConfiguration {
        .init(
            service: service,
            successTerminationBehavior: .gracefullyShutdownGroup,
            failureTerminationBehavior: .gracefullyShutdownGroup
        )
    }

    static func randomHex(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in "0123456789abcdef".randomElement(using: &generator)! })
    }
}

extension LocalPipeline: CustomStringConvertible {
    /// Lifecycle logs print services; the environment holds secrets, so it stays out.
    var description: String { "LocalPipeline" }
}

/// Runs a closure as a service.
private struct Console: Service {
    let body: @Sendable () async throws -> Void
    func run() async throws { try await body() }
}

/// Keeps a Calypso client's connections open until graceful shutdown; list it before its users.
private struct CalypsoClientLifetime: Service {
    let client: CalypsoClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
