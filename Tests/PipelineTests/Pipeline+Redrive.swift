import ArgumentParser
import Testing

@testable import PurserCLI

extension Pipeline {
    /// Runs `purser dlq redrive --worker <worker>` against this pipeline's broker and topics.
    func redriveDeadLetters(worker: String) async throws {
        let environment = ["KAFKA_BROKERS": kafka.bootstrapServers, "TOPIC_PREFIX": topics.prefix]
        let context = OperatorContext(environment: environment, write: { _ in }, progress: { _ in })
        try await OperatorContext.$current.withValue(context) {
            var command = try #require(
                try PurserCommand.parseAsRoot(["dlq", "redrive", "--worker", worker]) as? any AsyncParsableCommand
            )
            try await command.run()
        }
    }
}
