import Logging
import PurserKafka
import PurserSchema
import Synchronization

/// Reads the webhook and credit topics as records arrive, keeping what the latency figures need: when
/// ingest received each transaction's funds-received webhook, and every credit with its event time.
final class PublishedTail: Sendable {
    struct Credit: Sendable {
        var deposit: DepositDetails
        var time: Timestamp
    }

    private struct State {
        var received: [String: Timestamp] = [:]
        var credits: [Credit] = []
        var creditedTransactions: Set<String> = []
    }

    /// A class around the lock, so the reading tasks can share it.
    private final class Shared: Sendable {
        let state = Mutex(State())
    }

    private let shared = Shared()
    private let consumers: [KafkaConsumer]
    private let readers: Task<Void, any Error>

    init(brokers: [String], topics: TopicNames, partitions: Int, logger: Logger) throws {
        func reader(_ topic: String) throws -> KafkaConsumer {
            let consumer = try KafkaConsumer(
                configuration: .embeddedBrokerReader(brokers),
                logger: logger
            )
            try consumer.assign((0..<Int32(partitions)).map { TopicPartitionOffset(topic, $0, offset: TopicPartitionOffset.beginning) })
            return consumer
        }
        let webhooks = try reader(topics.webhooks)
        let credits = try reader(topics.depositsCredited)
        consumers = [webhooks, credits]
        readers = Task { [shared] in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await record in webhooks.records {
                        let event = try CloudEvent<WebhookReceived>(recordValue: record.value ?? [])
                        guard event.data.eventType == .fundsReceived,
                            let transaction = event.data.payload["transactionId"]?.stringValue
                        else { continue }
                        shared.state.withLock { state in
                            state.received[transaction] = min(state.received[transaction] ?? event.data.receivedAt, event.data.receivedAt)
                        }
                    }
                }
                group.addTask {
                    for try await record in credits.records {
                        let event = try CloudEvent<DepositCredited>(recordValue: record.value ?? [])
                        shared.state.withLock { state in
                            state.credits.append(Credit(deposit: event.data.deposit, time: event.time))
                            state.creditedTransactions.insert(event.data.deposit.transactionId)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// Distinct transactions credited so far.
    var creditedCount: Int { shared.state.withLock { $0.creditedTransactions.count } }

    var credits: [Credit] { shared.state.withLock { $0.credits } }

    /// When ingest received the funds-received webhook of `transaction` (the first copy, if several).
    func receivedAt(_ transaction: String) -> Timestamp? { shared.state.withLock { $0.received[transaction] } }

    func stop() async {
        for consumer in consumers { await consumer.shutdown() }
        readers.cancel()
        _ = await readers.result
    }
}
