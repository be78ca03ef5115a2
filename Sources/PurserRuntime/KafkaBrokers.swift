/// Where Kafka is (`KAFKA_BROKERS`): bootstrap servers, or the embedded in-process broker.
public struct KafkaBrokers: Hashable, Sendable, CustomStringConvertible {
    enum Kind: Hashable {
        case embedded
        case servers([String])
    }

    let kind: Kind

    /// The embedded broker (librdkafka's mock cluster), started in-process; only `purser run` uses it.
    public static let embedded = KafkaBrokers(kind: .embedded)

    /// Bootstrap servers as `host:port` strings.
    public static func servers(_ servers: [String]) -> KafkaBrokers {
        KafkaBrokers(kind: .servers(servers))
    }

    private init(kind: Kind) {
        self.kind = kind
    }

    public var isEmbedded: Bool { kind == .embedded }

    /// The bootstrap servers; `nil` for the embedded broker, whose address is only known once it runs.
    public var bootstrapServers: [String]? {
        if case .servers(let servers) = kind { return servers }
        return nil
    }

    public var description: String {
        switch kind {
        case .embedded: "embedded"
        case .servers(let servers): servers.joined(separator: ",")
        }
    }

    /// Parses `embedded` or a comma-separated list of `host:port`.
    ///
    /// - Returns: `nil` when the text is empty or an entry lacks a host or a valid port.
    public init?(_ text: String) {
        let trimmed = text.trimmed
        if trimmed == "embedded" {
            self = .embedded
            return
        }
        let entries = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmed }
        guard !entries.isEmpty, entries.allSatisfy(Self.isHostAndPort) else { return nil }
        self = .servers(entries)
    }

    private static func isHostAndPort(_ entry: String) -> Bool {
        guard let colon = entry.lastIndex(of: ":") else { return false }
        let host = entry[..<colon]
        guard let port = Int(entry[entry.index(after: colon)...]) else { return false }
        return !host.isEmpty && (1...65535).contains(port)
    }
}

extension StringProtocol {
    var trimmed: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
