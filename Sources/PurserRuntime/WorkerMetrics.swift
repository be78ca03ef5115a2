import Metrics

/// A worker's metrics, created once (per STYLE: cache metric objects per dimension set).
///
/// Names follow `purser_worker_<what>_<unit>`, with the dimension `worker`; never a customer id.
struct WorkerMetrics: Sendable {
    let processed: Counter
    let retried: Counter
    let deadLettered: Counter
    let inFlight: Gauge
    let lag: Gauge
    let latency: Timer

    init(worker: String, factory: any MetricsFactory) {
        let dimensions = [("worker", worker)]
        processed = Counter(label: "purser_worker_processed_total", dimensions: dimensions, factory: factory)
        retried = Counter(label: "purser_worker_retried_total", dimensions: dimensions, factory: factory)
        deadLettered = Counter(label: "purser_worker_dead_lettered_total", dimensions: dimensions, factory: factory)
        inFlight = Gauge(label: "purser_worker_in_flight_records", dimensions: dimensions, factory: factory)
        lag = Gauge(label: "purser_worker_lag_records", dimensions: dimensions, factory: factory)
        latency = Timer(label: "purser_worker_processing_seconds", dimensions: dimensions, factory: factory)
    }
}
