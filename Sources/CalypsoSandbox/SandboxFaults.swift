/// Fault knobs of the sandbox. All rates are probabilities in `0...1`, drawn from the seeded
/// generator, so a run with the same `--seed` and the same calls makes the same decisions.
public struct SandboxFaults: Sendable, Hashable {
    /// Added before every API answer. Default: none.
    public var apiLatency: Duration = .zero
    /// Share of API calls answered with ``apiErrorStatus`` and Calypso's `000` body. Default: `0`.
    public var apiErrorRate = 0.0
    /// The status of injected API errors: 500, 503 or 429 exercise the transient path. Default: `500`.
    public var apiErrorStatus = 500
    /// Share of successful webhook deliveries sent a second time, byte for byte. Default: `0`.
    public var duplicateDeliveryRate = 0.0
    /// Share of webhooks held back until the next webhook of the same subscription was sent. Default: `0`.
    public var outOfOrderDeliveryRate = 0.0
    /// How long `transaction/get` trails each deposit webhook before showing its state. Default: none.
    public var apiLag: Duration = .zero

    public init() {}

    /// Refuses rates outside `0...1`, negative durations and non-error statuses.
    public func validated() throws(SandboxError) -> Self {
        for (name, rate) in [
            ("apiErrorRate", apiErrorRate), ("duplicateDeliveryRate", duplicateDeliveryRate),
            ("outOfOrderDeliveryRate", outOfOrderDeliveryRate),
        ] where !(0...1).contains(rate) {
            throw .badRequest("\(name) must be between 0 and 1")
        }
        guard apiLatency >= .zero, apiLag >= .zero else { throw .badRequest("durations must not be negative") }
        guard (400...599).contains(apiErrorStatus) else { throw .badRequest("apiErrorStatus must be 4xx or 5xx") }
        return self
    }
}

extension SandboxFaults: Codable {
    enum CodingKeys: String, CodingKey {
        case apiLatencyMs, apiErrorRate, apiErrorStatus, duplicateDeliveryRate, outOfOrderDeliveryRate, apiLagMs
    }

    /// Members left out keep their default.
    public init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let ms = try container.decodeIfPresent(Int.self, forKey: .apiLatencyMs) { apiLatency = .milliseconds(ms) }
        if let rate = try container.decodeIfPresent(Double.self, forKey: .apiErrorRate) { apiErrorRate = rate }
        if let status = try container.decodeIfPresent(Int.self, forKey: .apiErrorStatus) { apiErrorStatus = status }
        if let rate = try container.decodeIfPresent(Double.self, forKey: .duplicateDeliveryRate) {
            duplicateDeliveryRate = rate
        }
        if let rate = try container.decodeIfPresent(Double.self, forKey: .outOfOrderDeliveryRate) {
            outOfOrderDeliveryRate = rate
        }
        if let ms = try container.decodeIfPresent(Int.self, forKey: .apiLagMs) { apiLag = .milliseconds(ms) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(apiLatency.milliseconds, forKey: .apiLatencyMs)
        try container.encode(apiErrorRate, forKey: .apiErrorRate)
        try container.encode(apiErrorStatus, forKey: .apiErrorStatus)
        try container.encode(duplicateDeliveryRate, forKey: .duplicateDeliveryRate)
        try container.encode(outOfOrderDeliveryRate, forKey: .outOfOrderDeliveryRate)
        try container.encode(apiLag.milliseconds, forKey: .apiLagMs)
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
