import AsyncHTTPClient
import Calypso
import Foundation
import Hummingbird
import Logging
import PurserIngest
import PurserJSON
import PurserKafka
import PurserTesting
import ServiceLifecycle

/// One ingest service on loopback in front of the embedded broker, with an HTTP client and a reader
/// of the webhook topic. Stopped (gracefully) by ``stop()``.
final class IngestHarness: Sendable {
    static let keyPairs = [
        CalypsoKeyPair(key: "c529e14832b34b74972365cf7bf02430", secret: "b823a6b9ea72408583cef9ec8d67fa52"),
        CalypsoKeyPair(key: "0f3e6a5d2c1b4a7988776655443322aa", secret: "7d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a"),
    ]
    static let partitions = 6

    let kafka: EmbeddedKafka
    let topic: String
    let port: Int
    private let serviceGroup: ServiceGroup
    private let running: Task<Void, any Error>

    /// Starts a broker (unless given one) and an ingest service; `configure` adjusts the configuration.
    init(
        kafka: EmbeddedKafka? = nil,
        topic: String? = nil,
        spoolDirectory: String?,
        configure: (inout IngestConfiguration) -> Void = { _ in }
    ) async throws {
        let topic = topic ?? KafkaTesting.uniqueName("calypso.webhooks.v1")
        let kafka = try kafka ?? KafkaTesting.startBroker(topics: [topic: Self.partitions])
        var configuration = IngestConfiguration(webhookKeyPairs: Self.keyPairs)
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.publishTimeout = .seconds(2)
        configuration.spoolDirectory = spoolDirectory
        configuration.retryAfterSeconds = 5
        configure(&configuration)

        var producerConfiguration = IngestService.producerConfiguration(
            brokers: kafka.brokers,
            publishTimeout: configuration.publishTimeout
        )
        producerConfiguration.client.reconnectBackoffMax = .milliseconds(200)
        producerConfiguration.shutdownFlushTimeout = .seconds(2)
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: KafkaTesting.logger)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let service = try IngestService(
            configuration: configuration,
            topic: topic,
            producer: producer,
            logger: KafkaTesting.logger,
            onServerRunning: { port in portContinuation.yield(port) }
        )
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: producer), .init(service: service)],
                logger: KafkaTesting.logger
            )
        )
        running = Task { try await serviceGroup.run() }
        let port = try await KafkaTesting.withTimeout(.seconds(20)) {
            var iterator = ports.makeAsyncIterator()
            return await iterator.next() ?? 0
        }
        self.kafka = kafka
        self.topic = topic
        self.port = port
        self.serviceGroup = serviceGroup
    }

    func stop() async throws {
        await serviceGroup.triggerGracefulShutdown()
        try await KafkaTesting.withTimeout(.seconds(30)) { [running] in try await running.value }
    }

    // MARK: HTTP

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    func post(
        _ body: [UInt8],
        key: String? = keyPairs[0].key,
        sign: String? = nil,
        contentType: String? = "application/json",
        streamed: Bool = false
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/calypso")
        request.method = .POST
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let key { request.headers.add(name: "Key", value: key) }
        let secret = Self.keyPairs.first { $0.key == key }?.secret ?? "unknown"
        if let sign = sign ?? (key == nil ? nil : CalypsoSignature.sign(body, secret: secret)) {
            request.headers.add(name: "Sign", value: sign)
        }
        if streamed {
            let chunks = AsyncStream<ByteBuffer> { continuation in
                for start in stride(from: 0, to: body.count, by: 16 * 1024) {
                    continuation.yield(ByteBuffer(bytes: body[start..<min(start + 16 * 1024, body.count)]))
                }
                continuation.finish()
            }
            request.body = .stream(chunks, length: .unknown)
        } else {
            request.body = .bytes(body)
        }
        return try await execute(request)
    }

    func get(_ path: String) async throws -> Answer {
        try await execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"))
    }

    private func execute(_ request: HTTPClientRequest) async throws -> Answer {
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Answer(
            status: Int(response.status.code),
            headers: Dictionary(response.headers.map { ($0.name.lowercased(), $0.value) }) { $1 },
            body: String(decoding: body.readableBytesView, as: UTF8.self)
        )
    }

    /// A metric's value from `/metrics` (the first sample whose line starts with `sample`).
    func metric(_ sample: String) async throws -> Double? {
        let text = try await get("/metrics").body
        return text.split(separator: "\n").first { $0.hasPrefix(sample + " ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    // MARK: Kafka

    /// How many records the topic holds, from the partitions' watermarks.
    func recordCount() async throws -> Int {
        let consumer = try KafkaConsumer(
            configuration: KafkaTesting.consumerConfiguration(kafka, groupID: nil),
            logger: KafkaTesting.logger
        )
        var total: Int64 = 0
        for partition in 0..<Int32(Self.partitions) {
            let (low, high) = try await consumer.watermarks(TopicPartition(topic, partition))
            total += high - low
        }
        await consumer.shutdown()
        return Int(total)
    }

    /// Reads the topic from the beginning until `count` records arrived (bounded wait).
    func readRecords(_ count: Int, timeout: Duration = .seconds(30)) async throws -> [ConsumerRecord] {
        let consumer = try KafkaConsumer(
            configuration: KafkaTesting.consumerConfiguration(kafka, groupID: nil),
            logger: KafkaTesting.logger
        )
        try consumer.assign(
            (0..<Int32(Self.partitions)).map { TopicPartitionOffset(topic, $0, offset: TopicPartitionOffset.beginning) }
        )
        defer { Task { await consumer.shutdown() } }
        return try await KafkaTesting.collect(count, from: consumer, timeout: timeout)
    }
}

/// Polls `condition` every 50 ms until it holds, for at most `timeout`; returns whether it held.
func eventually(timeout: Duration = .seconds(30), _ condition: @Sendable () async throws -> Bool) async rethrows -> Bool
{
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// Builders of realistic Calypso webhook bodies (compact JSON, as Calypso sends them).
enum Webhooks {
    static let subscriptionId = "a381f753-3079-4214-9720-b416fc35ca10"

    /// The `data` object, written exactly as it must reappear in `payload`.
    static func data(customerId: String?, amount: String = "0.123456789012345678") -> String {
        let customer = customerId.map { #""customerId":"\#($0)","# } ?? ""
        return
            #"{\#(customer)"customerBlocked":false,"purseId":"9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d","address":"0x52908400098527886e0f7030069857d2e4169ee7","currency":"USDT_BSC","transactionId":"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0","amount":\#(amount),"futureField":{"nested":[1,2.50,null]}}"#
    }

    static func body(
        id: Int,
        customerId: String? = "3f1c7d2e-8a4b-4c6d-9e0f-1a2b3c4d5e6f",
        eventType: String? = "CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE"
    ) -> [UInt8] {
        let type = eventType.map { #""eventType":"\#($0)","# } ?? ""
        return Array(
            #"{"requestId":"\#(subscriptionId)","id":\#(id),"createdDate":"2025-10-30T14:08:39.96068","level":"INFO","service":"CUSTOMER_PURSE",\#(type)"data":\#(data(customerId: customerId))}"#
                .utf8
        )
    }
}
