/// Percentiles of a set of latencies, in milliseconds.
struct LatencySummary: Codable {
    var count: Int
    var p50: Double
    var p99: Double
    var max: Double

    init(milliseconds samples: [Double]) {
        let sorted = samples.sorted()
        count = sorted.count
        func percentile(_ fraction: Double) -> Double {
            sorted.isEmpty ? .nan : sorted[min(Int(Double(sorted.count) * fraction), sorted.count - 1)]
        }
        p50 = percentile(0.5)
        p99 = percentile(0.99)
        max = sorted.last ?? .nan
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
