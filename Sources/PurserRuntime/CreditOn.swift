/// When a confirmed deposit may be credited (`CREDIT_ON`).
public struct CreditOn: Hashable, Sendable, CustomStringConvertible {
    enum Kind: String, CaseIterable {
        case confirmed
        case settled
    }

    let kind: Kind

    /// Credit once Calypso reports the transaction `CONFIRMED`/`CHECKED` (the default).
    public static let confirmed = CreditOn(kind: .confirmed)
    /// Credit only once Calypso also reports `translationToAccountCompleted`.
    public static let settled = CreditOn(kind: .settled)

    /// Parses `confirmed` or `settled`; `nil` for anything else.
    public init?(_ text: String) {
        guard let kind = Kind(rawValue: text) else { return nil }
        self.kind = kind
    }

    private init(kind: Kind) {
        self.kind = kind
    }

    public var description: String { kind.rawValue }
}
