import ArgumentParser
import Foundation
import Logging
import PurserKafka
import PurserRuntime
import PurserSchema

/// What an operator command reads and where it writes: the environment, standard output for results
/// and standard error for progress. Tests replace it with ``withValue(_:operation:)`` to pass
/// variables and capture output without touching the process's own.
struct OperatorContext: Sendable {
    var environment: [String: String]
    /// One line of the command's result (a table row, an event, JSON).
    var write: @Sendable (String) -> Void
    /// One progress line for a long operation; not part of the result.
    var progress: @Sendable (String) -> Void

    @TaskLocal static var current = OperatorContext(
        environment: ProcessInfo.processInfo.environment,
        // Unbuffered, so `tail --follow` shows each event as it arrives even through a pipe.
        write: { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) },
        progress: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    )

    /// Kafka client logs: none unless `LOG_LEVEL` asks, so they do not bury the one-line reason.
    static var logger: Logger {
        var logger = Logger(label: "purser.cli")
        logger.logLevel = current.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }
}

/// A failure an operator sees as one line, e.g. `unknown worker "x"` or `cannot reach Kafka at …`.
struct OperatorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Where Kafka is, for every operator command: `KAFKA_BROKERS` (or `--brokers`), `KAFKA_PROPERTIES_FILE`
/// and `TOPIC_PREFIX`, read through ``PurserConfiguration``.
struct KafkaOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers, host:port[,host:port]. Overrides KAFKA_BROKERS.")
    var brokers: String?

    @Option(help: "Seconds to wait for Kafka before giving up.")
    var timeout = 10

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be at least 1 second") }
    }

    var kafkaTimeout: Duration { .seconds(timeout) }

    /// The shared configuration, with `--brokers` in place of `KAFKA_BROKERS`.
    /// - Throws: ``OperatorError`` naming the variable at fault.
    func configuration() throws -> PurserConfiguration {
        var variables = OperatorContext.current.environment
        if let brokers { variables["KAFKA_BROKERS"] = brokers }
        do {
            return try PurserConfiguration(environment: EnvironmentReader(variables), allowsEmbeddedBroker: false)
        } catch {
            throw OperatorError(error.description)
        }
    }
}

/// The Kafka clients of one operator command, built from its configuration.
struct OperatorKafka: Sendable {
    let configuration: PurserConfiguration
    let admin: KafkaAdmin
    let timeout: Duration
    /// Every topic on the cluster and its partition count, as of connecting.
    let partitionCounts: [String: Int]

    var clientOptions: KafkaClientOptions { Self.clientOptions(configuration) }

    static func clientOptions(_ configuration: PurserConfiguration) -> KafkaClientOptions {
        var options = KafkaClientOptions(bootstrapServers: configuration.brokers.bootstrapServers ?? [])
        options.clientID = "purser-cli"
        options.additionalProperties = configuration.kafkaProperties
        return options
    }

    /// Connects and lists the topics, so an unreachable cluster fails here with one clear line.
    static func connect(_ options: KafkaOptions) async throws -> OperatorKafka {
        let configuration = try options.configuration()
        let admin = try KafkaAdmin(options: clientOptions(configuration), logger: OperatorContext.logger)
        do {
            let counts = try await admin.listTopics(timeout: options.kafkaTimeout)
            return OperatorKafka(
                configuration: configuration,
                admin: admin,
                timeout: options.kafkaTimeout,
                partitionCounts: counts
            )
        } catch {
            throw OperatorError("cannot reach Kafka at \(configuration.brokers): \(error)")
        }
    }

    /// `name` with `TOPIC_PREFIX`, or `name` itself when it is already a full name: operators may type either.
    /// The prefixed name wins when it exists, so a prefix that starts a contract name (`purser.` and
    /// `purser.transactions.v1`) still gets prepended.
    func topicName(_ name: String) -> String {
        let prefix = configuration.topicPrefix
        let prefixed = prefix + name
        if prefix.isEmpty || partitionCounts[prefixed] != nil { return prefixed }
        return name.hasPrefix(prefix) && partitionCounts[name] != nil ? name : prefixed
    }

    /// Every topic of the pipeline, dead letters included, that exists on the cluster (with `TOPIC_PREFIX`).
    /// - Throws: ``OperatorError`` when none does.
    func pipelineTopics() throws -> [String] {
        let base = TopicNames.Base.all + TopicNames.Worker.all.map(TopicNames.Base.deadLetter(worker:))
        let names = base.map(topicName).filter { partitionCounts[$0] != nil }
        if names.isEmpty { throw OperatorError("no pipeline topic on the cluster") }
        return names
    }

    /// The partitions of `topic`.
    /// - Throws: ``OperatorError`` when the topic does not exist.
    func partitions(of topic: String) throws -> [TopicPartition] {
        guard let count = partitionCounts[topic] else { throw OperatorError("no topic \(topic) on the cluster") }
        return (0..<Int32(count)).map { TopicPartition(topic, $0) }
    }

    /// Every record `topic` holds now, partition by partition; nothing is committed.
    func readAll(_ topic: String) async throws -> [ConsumerRecord] {
        var records: [ConsumerRecord] = []
        for partition in try partitions(of: topic) {
            records += try await admin.readPartition(partition, timeout: timeout)
        }
        return records
    }

    /// A producer for records the command publishes; idempotent, so a retried send is written once.
    func makeProducer() throws -> KafkaProducer {
        var producer = KafkaProducerConfiguration(bootstrapServers: clientOptions.bootstrapServers)
        producer.client = clientOptions
        producer.messageTimeout = timeout
        producer.shutdownFlushTimeout = timeout
        return try KafkaProducer(configuration: producer, logger: OperatorContext.logger)
    }

    /// A CloudEvent as Purser's records carry it: keyed by its subject (the customer id), with the
    /// CloudEvents content type and the trace context as headers.
    static func record(_ event: CloudEventEnvelope, topic: String) -> ProducerRecord {
        var headers = [KafkaHeader(key: CloudEventEnvelope.contentTypeHeader, value: CloudEventEnvelope.contentType)]
        if let traceparent = event.traceparent {
            headers.append(KafkaHeader(key: "traceparent", value: traceparent.rawValue))
        }
        return ProducerRecord(
            topic: topic,
            key: event.subject.map { Array($0.utf8) },
            value: event.recordValue(),
            headers: headers
        )
    }

    /// Sends `records` in order, flushes, and shuts the producer down; stops at the first failure.
    /// - Parameter delivered: called with each record's index and report as it is acknowledged, so a caller
    ///   can say what was written before a failure.
    /// - Returns: each record's delivery report, in order.
    func publish(
        _ records: [ProducerRecord],
        delivered: (Int, DeliveryReport) -> Void = { _, _ in }
    ) async throws -> [DeliveryReport] {
        guard !records.isEmpty else { return [] }
        let producer = try makeProducer()
        var reports: [DeliveryReport] = []
        do {
            for record in records {
                reports.append(try await producer.send(record))
                delivered(reports.count - 1, reports[reports.count - 1])
            }
        } catch {
            await producer.shutdown()
            throw OperatorError("publishing failed after \(reports.count) of \(records.count) record(s): \(error)")
        }
        await producer.shutdown()
        return reports
    }
}
