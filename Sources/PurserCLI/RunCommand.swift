import ArgumentParser
import Foundation
import Logging
import PurserKafka
import PurserRuntime
import ServiceLifecycle
import Synchronization

/// `purser run [--demo] [--exit-after-demo]`: the whole pipeline in one process.
///
/// Reads every variable of ``PurserConfiguration`` and ``IngestConfiguration`` (`KAFKA_BROKERS`
/// defaults to `embedded`, `PROCESSING_GUARANTEE` then to `at_least_once`), `SANDBOX_PORT` and
/// `LOG_LEVEL` (default `warning`, so the demo's lines stand out).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the whole pipeline in one process: broker, Calypso sandbox, ingest and every worker.",
        discussion: """
            Uses the embedded Kafka broker unless KAFKA_BROKERS names a cluster, and runs the Calypso \
            sandbox in-process (with made-up merchant credentials and a webhook subscription pointed at \
            ingest) unless CALYPSO_API_URL names a Calypso. Stops gracefully on SIGTERM or Ctrl-C.
            """
    )

    /// The embedded broker, kept until the process exits: some Kafka clients of the workers outlive
    /// their services and would log connection errors on the way out if the broker went first.
    private static let embeddedBroker = Mutex<EmbeddedKafka?>(nil)

    @Flag(help: "Create customers, send deposits through the sandbox and print the public events they lead to.")
    var demo = false

    @Flag(help: "With --demo: exit after the summary; exit 1 when the expected events did not all arrive.")
    var exitAfterDemo = false

    @Option(help: "With --demo: seconds the expected events may take to arrive.")
    var demoTimeout = 90

    @Option(help: "Interface the ingest, sandbox and metrics servers bind.")
    var host = "127.0.0.1"

    @OptionGroup var folder: TopicsFolderOptions

    func validate() throws {
        if exitAfterDemo && !demo { throw ValidationError("--exit-after-demo needs --demo") }
        guard demoTimeout > 0 else { throw ValidationError("--demo-timeout must be positive") }
    }

    func run() async throws {
        let startedAt = ContinuousClock.now
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let environment = EnvironmentReader()
        var logger = Logger(label: "purser.run")
        logger.logLevel =
            environment.string(EnvironmentVariables.logLevel).flatMap(Logger.Level.init(rawValue:)) ?? .warning
        var pipeline = LocalPipeline(
            options: pipelineOptions(),
            environment: environment,
            logger: logger,
            output: { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        )
        pipeline.startedAt = startedAt
        pipeline.onBrokerStarted = { kafka in Self.embeddedBroker.withLock { $0 = kafka } }
        var group = ServiceGroupConfiguration(
            // The pipeline ends by itself only after the demo with --exit-after-demo.
            services: [.init(service: pipeline, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        group.maximumGracefulShutdownDuration = .seconds(25)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch let failure as RunDemo.Failure {
            FileHandle.standardError.write(Data("purser run: demo failed: \(failure)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// The pipeline's options from the command line.
    func pipelineOptions() -> LocalPipeline.Options {
        LocalPipeline.Options(
            host: host,
            topicsFolder: folder.url,
            demo: demo ? .init(timeout: .seconds(demoTimeout), exitsAfterSummary: exitAfterDemo) : nil
        )
    }
}
