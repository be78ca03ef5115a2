/// A string-valued choice that stays open: values this version does not know decode, compare
/// and encode unchanged, as Calypso's robustness rule asks. Known values are static members.
public protocol OpenEnumeration: RawRepresentable<String>, Codable, Hashable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    init(rawValue: String)
    /// The values this version knows, in documentation order.
    static var knownValues: [Self] { get }
}

extension OpenEnumeration {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
    /// Whether this value is one of ``knownValues``.
    public var isKnown: Bool { Self.knownValues.contains(self) }
}

/// A Calypso webhook `eventType`. Unknown types are published and ignored by workers.
public struct WebhookEventType: OpenEnumeration {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let purseExpired: Self = "CUSTOMER_PURSE_EXPIRED"
    public static let memPoolFound: Self = "CUSTOMER_PURSE_MEM_POOL_FOUND"
    public static let pendingCompliance: Self = "CUSTOMER_PURSE_PENDING_COMPLIANCE"
    public static let complianceDeclined: Self = "CUSTOMER_PURSE_COMPLIANCE_DECLINED"
    public static let fundsReceived: Self = "CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE"
    public static let translationToAccountCompleted: Self = "CUSTOMER_PURSE_TRANSLATION_TO_ACCOUNT_COMPLETED"
    public static let knownValues: [Self] = [
        .purseExpired, .memPoolFound, .pendingCompliance, .complianceDeclined, .fundsReceived,
        .translationToAccountCompleted,
    ]
}

/// A Calypso webhook `level`.
public struct WebhookLevel: OpenEnumeration {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let success: Self = "SUCCESS"
    public static let info: Self = "INFO"
    public static let warning: Self = "WARNING"
    public static let knownValues: [Self] = [.success, .info, .warning]
}

extension WebhookEventType {
    /// The transaction and compliance states Calypso documents for each deposit webhook; `nil` for other types.
    public var documentedStates: (transaction: TransactionState, compliance: ComplianceState)? {
        switch self {
        case .memPoolFound: (.memPoolFound, .unchecked)
        case .pendingCompliance: (.pendingComplianceCheck, .inProgress)
        case .complianceDeclined: (.declined, .decline)
        case .fundsReceived, .translationToAccountCompleted: (.confirmed, .checked)
        default: nil
        }
    }
}

/// A Calypso `transactionState`.
public struct TransactionState: OpenEnumeration {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let memPoolFound: Self = "MEM_POOL_FOUND"
    public static let pendingComplianceCheck: Self = "PENDING_COMPLIANCE_CHECK"
    public static let declined: Self = "DECLINED"
    public static let confirmed: Self = "CONFIRMED"
    public static let knownValues: [Self] = [.memPoolFound, .pendingComplianceCheck, .declined, .confirmed]
}

/// A Calypso `complianceState`.
public struct ComplianceState: OpenEnumeration {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let unchecked: Self = "UNCHECKED"
    public static let inProgress: Self = "IN_PROGRESS"
    public static let decline: Self = "DECLINE"
    public static let checked: Self = "CHECKED"
    public static let knownValues: [Self] = [.unchecked, .inProgress, .decline, .checked]
}

/// Whose view of a transaction `purser.transaction.updated` carries.
public struct VerificationSource: OpenEnumeration {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Confirmed with Calypso's `transaction/get`.
    public static let api: Self = "api"
    /// Taken from the webhook without an API call (non-terminal events).
    public static let webhook: Self = "webhook"
    public static let knownValues: [Self] = [.api, .webhook]
}

/// Who changed a customer in `purser.customer.changed`.
public struct CustomerChangeSource: OpenEnumeration {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let cli: Self = "cli"
    public static let webhook: Self = "webhook"
    public static let knownValues: [Self] = [.cli, .webhook]
}

/// Why a deposit is held.
public struct HoldReason: OpenEnumeration {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let customerBlocked: Self = "customer_blocked"
    public static let knownValues: [Self] = [.customerBlocked]
}

/// A CloudEvents `type` of a Purser message.
public struct EventType: OpenEnumeration {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let webhookReceived: Self = "calypso.webhook.received"
    public static let transactionUpdated: Self = "purser.transaction.updated"
    public static let customerChanged: Self = "purser.customer.changed"
    public static let depositApproved: Self = "purser.deposit.approved"
    public static let depositCredited: Self = "deposit.credited"
    public static let depositHeld: Self = "deposit.held"
    public static let depositDeclined: Self = "deposit.declined"
    public static let purseRenewed: Self = "purse.renewed"
    public static let knownValues: [Self] = [
        .webhookReceived, .transactionUpdated, .customerChanged, .depositApproved, .depositCredited, .depositHeld,
        .depositDeclined, .purseRenewed,
    ]

    /// The CloudEvents `dataschema` of this type: its JSON Schema's path in the repository.
    public var dataschema: String { "topics/schemas/\(rawValue).json" }
}
