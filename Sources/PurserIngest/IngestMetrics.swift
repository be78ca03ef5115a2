import Prometheus

/// Ingest's Prometheus metrics, created once on the registry that `/metrics` renders.
///
/// - `purser_ingest_requests_total{status}`: webhook requests answered, by HTTP status.
/// - `purser_ingest_publish_duration_seconds`: time from a publish attempt to the broker's answer.
/// - `purser_ingest_spool_bytes`, `purser_ingest_spool_records`: what the spool holds.
/// - `purser_ingest_spooled_records_total`: webhooks that went to the spool.
/// - `purser_ingest_drained_records_total`: spooled webhooks the drainer published.
public final class IngestMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let publishDuration: DurationHistogram
    let spoolBytes: Gauge
    let spoolRecords: Gauge
    let spooledRecords: Counter
    let drainedRecords: Counter
    private let requestsByStatus: [Int: Counter]

    private static let statuses = [200, 400, 401, 404, 413, 415, 500, 503]

    public init(registry: PrometheusCollectorRegistry) {
        func named(_ name: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        }
        self.registry = registry
        publishDuration = registry.makeDurationHistogram(
            descriptor: named(
                "purser_ingest_publish_duration_seconds",
                "Time from a publish attempt to the broker's acknowledgement or failure."
            ),
            buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000].map { .milliseconds($0) }
        )
        spoolBytes = registry.makeGauge(
            descriptor: named("purser_ingest_spool_bytes", "Bytes the spool holds on disk.")
        )
        spoolRecords = registry.makeGauge(
            descriptor: named("purser_ingest_spool_records", "Webhooks in the spool waiting for Kafka.")
        )
        spooledRecords = registry.makeCounter(
            descriptor: named(
                "purser_ingest_spooled_records_total",
                "Webhooks written to the spool because Kafka did not acknowledge in time."
            )
        )
        drainedRecords = registry.makeCounter(
            descriptor: named(
                "purser_ingest_drained_records_total",
                "Spooled webhooks published to Kafka by the drainer."
            )
        )
        let requests = named("purser_ingest_requests_total", "Webhook requests answered, by HTTP status.")
        requestsByStatus = Dictionary(
            uniqueKeysWithValues: Self.statuses.map { status in
                (status, registry.makeCounter(descriptor: requests, labels: [("status", String(status))]))
            }
        )
    }

    func countRequest(status: Int) {
        (requestsByStatus[status] ?? requestsByStatus[500])?.increment()
    }

    /// The exposition text, with the spool gauges brought up to date first.
    func render(spool: SpoolStats?) -> [UInt8] {
        spoolBytes.set(Int64(spool?.bytes ?? 0))
        spoolRecords.set(Int64(spool?.records ?? 0))
        return registry.emitToBuffer()
    }
}
