/// `purser.customer.changed`: a customer's latest state, published by `purser customers …`. On
/// the compacted topic the latest record per customer is the customer table.
///
/// Id: random; a change is an action, not a function of an input.
public struct CustomerChanged: EventData {
    public static let eventType = EventType.customerChanged
    public static let summary = "A customer's latest state after a change made through Purser or learned from Calypso."

    public var customerId: String
    public var email: String?
    public var description: String?
    public var externalId: String?
    public var blocked: Bool
    public var changedAt: Timestamp
    public var changedBy: CustomerChangeSource

    public init(
        customerId: String,
        email: String?,
        description: String?,
        externalId: String?,
        blocked: Bool,
        changedAt: Timestamp,
        changedBy: CustomerChangeSource
    ) {
        self.customerId = customerId
        self.email = email
        self.description = description
        self.externalId = externalId
        self.blocked = blocked
        self.changedAt = changedAt
        self.changedBy = changedBy
    }

    public static let fields: [FieldSchema] = [
        .required("customerId", .string, "Calypso customer id."),
        .optional("email", .string, "Customer e-mail, as given to Calypso."),
        .optional("description", .string, "Free-text description, as given to Calypso."),
        .optional("externalId", .string, "The merchant's own id for the customer."),
        .required("blocked", .boolean, "Whether the customer is blocked."),
        .required("changedAt", .timestamp, "When the change was made."),
        .required(
            "changedBy",
            .choice(CustomerChangeSource.self),
            "cli: an operator command; webhook: learned from Calypso."
        ),
    ]

    public static let example = CustomerChanged(
        customerId: Examples.customerId,
        email: "ada@example.com",
        description: "VIP since 2024",
        externalId: "crm-42",
        blocked: true,
        changedAt: Examples.decidedAt,
        changedBy: .cli
    )

    public var subject: String? { customerId }
    public var idempotencyKey: String? { nil }
}
