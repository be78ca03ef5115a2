import ArgumentParser
import Foundation
import PurserJSON
import PurserKafka
import PurserSchema
import PurserTesting
import Synchronization

@testable import PurserCLI

/// Runs `purser …` the way a user does, with its own environment, and keeps what it printed.
final class OperatorRun: Sendable {
    private let lines = Mutex<[String]>([])
    private let progressLines = Mutex<[String]>([])

    /// Result lines (standard output); a multi-line write counts as its lines.
    var output: [String] { lines.withLock { $0 } }
    var progress: [String] { progressLines.withLock { $0 } }
    var text: String { output.joined(separator: "\n") }

    /// Parses `arguments` as the root command and runs the chosen subcommand.
    /// - Throws: what parsing or the command threw.
    @discardableResult
    static func purser(
        _ arguments: [String],
        environment: [String: String] = [:],
        into run: OperatorRun = OperatorRun()
    )
        async throws -> OperatorRun
    {
        let context = OperatorContext(
            environment: environment,
            write: { text in
                run.lines.withLock {
                    $0 += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                }
            },
            progress: { text in run.progressLines.withLock { $0.append(text) } }
        )
        var command = try PurserCommand.parseAsRoot(arguments)
        try await OperatorContext.$current.withValue(context) {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        }
        return run
    }

    /// The output parsed as one JSON document.
    func json() throws -> JSONValue { try JSONValue(parsing: Array(text.utf8)) }
}

/// Records for the embedded broker in tests.
enum TestRecords {
    /// A structured CloudEvent of `type` about `customer`, keyed by the customer.
    static func event(
        topic: String,
        type: EventType,
        customer: String,
        id: String = UUID().uuidString,
        data: JSONObject,
        headers: [KafkaHeader] = [],
        traceparent: TraceParent? = nil
    ) -> ProducerRecord {
        let envelope = CloudEventEnvelope(
            id: id,
            source: "purser-test",
            type: type,
            subject: customer,
            time: .now,
            dataSchema: type.dataschema,
            traceparent: traceparent,
            data: .object(data)
        )
        return ProducerRecord(
            topic: topic,
            key: Array(customer.utf8),
            value: envelope.recordValue(),
            headers: [KafkaHeader(key: CloudEventEnvelope.contentTypeHeader, value: CloudEventEnvelope.contentType)]
                + headers
        )
    }

    /// Sends `records` in order and returns where each landed.
    static func send(_ records: [ProducerRecord], to kafka: EmbeddedKafka) async throws -> [DeliveryReport] {
        let producer = try KafkaProducer(
            configuration: KafkaTesting.producerConfiguration(kafka),
            logger: KafkaTesting.logger
        )
        var reports: [DeliveryReport] = []
        do {
            for record in records { reports.append(try await producer.send(record)) }
        } catch {
            await producer.shutdown()
            throw error
        }
        await producer.shutdown()
        return reports
    }
}
