import Logging
import PurserKafka
import Synchronization

/// A verified webhook made ready for Kafka: its record, and what may be logged about it.
struct PreparedWebhook: Sendable {
    /// Calypso's event `id`, as its literal text.
    var eventId: String
    var eventType: String
    var record: ProducerRecord
}

/// Ingest answers 503: the webhook could be neither published nor spooled.
struct IngestUnavailable: Error, CustomStringConvertible {
    var description: String
}

/// Makes verified webhooks into Kafka records and publishes them within the publish timeout.
/// The direct path and the drainer share it, so a spooled webhook is published exactly as it
/// would have been at once.
final class WebhookPublisher: Sendable {
    let metrics: IngestMetrics
    private let topic: String
    private let producer: KafkaProducer
    private let publishTimeout: Duration
    /// Whether the last publish attempt got an acknowledgement, for readiness.
    private let brokerAnswered = Atomic<Bool>(true)

    init(topic: String, producer: KafkaProducer, publishTimeout: Duration, metrics: IngestMetrics) {
        self.topic = topic
        self.producer = producer
        self.publishTimeout = publishTimeout
        self.metrics = metrics
    }

    var isBrokerAnswering: Bool { brokerAnswered.load(ordering: .relaxed) }

    /// The webhook's Kafka record; throws when the envelope lacks what the event needs.
    func prepared(_ webhook: SpoolRecord) throws(WebhookEnvelopeError) -> PreparedWebhook {
        try WebhookEvent.prepare(webhook, topic: topic)
    }

    /// Sends to Kafka, waiting at most the publish timeout for the acknowledgement.
    func publish(_ prepared: PreparedWebhook) async throws {
        let start = ContinuousClock.now
        defer { metrics.publishDuration.record(ContinuousClock.now - start) }
        do {
            _ = try await producer.send(prepared.record, timeout: publishTimeout)
            brokerAnswered.store(true, ordering: .relaxed)
        } catch {
            brokerAnswered.store(false, ordering: .relaxed)
            throw error
        }
    }
}

/// Decides where a verified webhook goes: straight to Kafka, or to the spool.
///
/// Ordering rule: while the spool holds anything, new webhooks are appended to the spool too and
/// the drainer publishes them in order, so no webhook overtakes a spooled one (of any key).
struct WebhookIngestor: Sendable {
    enum Outcome: String {
        case published, spooled
    }

    let publisher: WebhookPublisher
    let spool: Spool?
    /// Told when something was spooled, so it starts draining.
    let drainer: SpoolDrainer?
    let logger: Logger

    /// Publishes, or spools when the spool is in use or the publish fails or times out.
    /// - Throws: ``IngestUnavailable`` when the webhook is neither acknowledged nor spooled.
    func accept(_ webhook: SpoolRecord, prepared: PreparedWebhook) async throws -> Outcome {
        var publishError: (any Error)?
        if spool?.isEmpty ?? true {
            do {
                try await publisher.publish(prepared)
                return .published
            } catch {
                publishError = error
            }
        }
        guard let spool else {
            throw IngestUnavailable(description: "publish failed and the spool is disabled: \(publishError!)")
        }
        do {
            try await spool.append(webhook)
        } catch {
            throw IngestUnavailable(description: "\(error)")
        }
        publisher.metrics.spooledRecords.increment()
        drainer?.wake()
        if let publishError {
            logger.warning(
                "publish failed; webhook spooled",
                metadata: [LoggingKeys.eventId: "\(prepared.eventId)", LoggingKeys.error: "\(publishError)"]
            )
        }
        return .spooled
    }
}

/// Metadata keys of ingest's log lines.
enum LoggingKeys {
    static let eventId = "purser.event_id"
    static let eventType = "purser.event_type"
    static let size = "purser.size"
    static let outcome = "purser.outcome"
    static let status = "purser.status"
    static let error = "purser.error"
}
