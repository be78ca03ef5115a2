import Calypso
import Hummingbird
import Logging
import Prometheus
import PurserKafka
import ServiceLifecycle

/// The ingest HTTP service: `POST /webhooks/calypso`, `/health/live`, `/health/ready`, `/metrics`,
/// and the spool drainer, as one `Service`.
///
/// It does not own the Kafka producer: run it in a `ServiceGroup` after the producer, so that on
/// graceful shutdown the server first stops accepting and finishes in-flight requests, the drainer
/// stops (unsent records stay in the spool), and only then the producer flushes.
public struct IngestService: Service {
    private let application: Application<RouterResponder<BasicRequestContext>>
    private let spool: Spool?

    /// - Parameters:
    ///   - configuration: address, limits, webhook key pairs, spool location.
    ///   - topic: the full name of `calypso.webhooks.v1` (with `TOPIC_PREFIX`).
    ///   - producer: an idempotent producer (`acks=all`), already running in the caller's group.
    ///   - registry: where the metrics go; `/metrics` renders it.
    ///   - onServerRunning: called with the bound port once the server listens.
    /// - Throws: ``SpoolIOError`` when the spool directory cannot be opened.
    public init(
        configuration: IngestConfiguration,
        topic: String,
        producer: KafkaProducer,
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws {
        let metrics = IngestMetrics(registry: registry)
        let spool = try configuration.spoolDirectory.map {
            try Spool(directory: $0, maxBytes: configuration.spoolMaxBytes, logger: logger)
        }
        let publisher = WebhookPublisher(
            topic: topic,
            producer: producer,
            publishTimeout: configuration.publishTimeout,
            metrics: metrics
        )
        let drainer = spool.map { SpoolDrainer(spool: $0, publisher: publisher, logger: logger) }
        let endpoint = WebhookEndpoint(
            verifier: WebhookVerifier(keyPairs: configuration.webhookKeyPairs),
            ingestor: WebhookIngestor(publisher: publisher, spool: spool, drainer: drainer, logger: logger),
            maxBodyBytes: configuration.maxBodyBytes,
            retryAfterSeconds: configuration.retryAfterSeconds,
            logger: logger
        )
        let maxBodyBytes = configuration.maxBodyBytes

        let router = Router()
        router.post("/webhooks/calypso") { request, _ in await endpoint.handle(request) }
        for method: HTTPRequest.Method in [.get, .head, .put, .patch, .delete] {
            router.on("/webhooks/calypso", method: method) { _, _ in
                var headers = HTTPFields()
                headers[.allow] = "POST"
                return Response(status: .methodNotAllowed, headers: headers)
            }
        }
        router.get("/health/live") { _, _ in Response(status: .ok) }
        router.get("/health/ready") { _, _ in
            // Ready while a webhook can be acknowledged one way or the other.
            let isReady = publisher.isBrokerAnswering || spool?.hasRoom(for: maxBodyBytes) == true
            return Response(status: isReady ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            let text = metrics.render(spool: spool?.stats)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        self.spool = spool
        application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port)),
            services: drainer.map { [$0] } ?? [],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// The producer settings ingest wants: idempotent with `acks=all`; librdkafka gives up on a
    /// record when the publish timeout passes (so a record that went to the spool is not also
    /// delivered late); no linger, since every webhook waits for its acknowledgement (records sent
    /// while earlier ones are in flight still travel together).
    public static func producerConfiguration(
        brokers: [String],
        publishTimeout: Duration,
        properties: [String: String] = [:]
    ) -> KafkaProducerConfiguration {
        var configuration = KafkaProducerConfiguration(bootstrapServers: brokers)
        configuration.client.clientID = "purser-ingest"
        configuration.client.additionalProperties = properties
        configuration.messageTimeout = publishTimeout
        configuration.linger = .zero
        return configuration
    }

    /// Serves until graceful shutdown, then closes the spool (what it holds stays on disk).
    public func run() async throws {
        do {
            try await application.run()
        } catch {
            await spool?.close()
            throw error
        }
        await spool?.close()
    }
}
