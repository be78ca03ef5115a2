/// How a worker commits its outputs and input offsets (`PROCESSING_GUARANTEE`).
public struct ProcessingGuarantee: Hashable, Sendable, CustomStringConvertible {
    enum Kind: String, CaseIterable {
        case exactlyOnce = "exactly_once"
        case atLeastOnce = "at_least_once"
    }

    let kind: Kind

    /// Outputs and input offsets are committed together in one Kafka transaction per commit interval.
    public static let exactlyOnce = ProcessingGuarantee(kind: .exactlyOnce)
    /// Input offsets are committed after every output of the records before them is acknowledged.
    public static let atLeastOnce = ProcessingGuarantee(kind: .atLeastOnce)

    /// Parses `exactly_once` or `at_least_once`; `nil` for anything else.
    public init?(_ text: String) {
        guard let kind = Kind(rawValue: text) else { return nil }
        self.kind = kind
    }

    private init(kind: Kind) {
        self.kind = kind
    }

    public var description: String { kind.rawValue }
}
