import PurserKafka
import PurserSchema

/// An event of one of the four public topics, as the demo of `purser run` shows it.
enum PublicEvent: Sendable {
    case credited(CloudEvent<DepositCredited>)
    case held(CloudEvent<DepositHeld>)
    case declined(CloudEvent<DepositDeclined>)
    case renewed(CloudEvent<PurseRenewed>)

    /// The four public topics, without prefix.
    static let topics = [
        TopicNames.Base.depositsCredited, TopicNames.Base.depositsHeld, TopicNames.Base.depositsDeclined,
        TopicNames.Base.pursesRenewed,
    ]

    /// Decodes a record of a public topic; `nil` for anything else (another type, a tombstone).
    init?(record: ConsumerRecord) {
        guard let value = record.value, let envelope = try? CloudEventEnvelope(recordValue: value) else { return nil }
        let event: PublicEvent? =
            switch envelope.type {
            case DepositCredited.eventType: (try? CloudEvent<DepositCredited>(envelope: envelope)).map(Self.credited)
            case DepositHeld.eventType: (try? CloudEvent<DepositHeld>(envelope: envelope)).map(Self.held)
            case DepositDeclined.eventType: (try? CloudEvent<DepositDeclined>(envelope: envelope)).map(Self.declined)
            case PurseRenewed.eventType: (try? CloudEvent<PurseRenewed>(envelope: envelope)).map(Self.renewed)
            default: nil
            }
        guard let event else { return nil }
        self = event
    }

    var customerId: String {
        switch self {
        case .credited(let event): event.data.deposit.customerId
        case .held(let event): event.data.deposit.customerId
        case .declined(let event): event.data.customerId
        case .renewed(let event): event.data.customerId
        }
    }

    /// What the event is about: the Calypso transaction of a deposit event, the expired purse of a renewal.
    var subjectKey: String {
        switch self {
        case .credited(let event): event.data.deposit.transactionId
        case .held(let event): event.data.deposit.transactionId
        case .declined(let event): event.data.transactionId
        case .renewed(let event): event.data.expiredPurseId
        }
    }

    /// The CloudEvent `id`: the idempotency key consumers deduplicate on.
    var id: String {
        switch self {
        case .credited(let event): event.id
        case .held(let event): event.id
        case .declined(let event): event.id
        case .renewed(let event): event.id
        }
    }

    /// The event's topic, without prefix.
    var topic: String {
        switch self {
        case .credited: TopicNames.Base.depositsCredited
        case .held: TopicNames.Base.depositsHeld
        case .declined: TopicNames.Base.depositsDeclined
        case .renewed: TopicNames.Base.pursesRenewed
        }
    }

    /// One readable line: topic, customer (by `names` when known), what happened, and the ids a
    /// consumer would use (the CloudEvent `id` is the idempotency key).
    func line(names: [String: String]) -> String {
        let customer = names[customerId] ?? customerId
        let detail: String
        switch self {
        case .credited(let event):
            detail =
                "\(event.data.deposit.amount) \(event.data.deposit.currency) credited"
                + "  tx \(event.data.deposit.transactionId.prefix(8))"
        case .held(let event):
            detail =
                "\(event.data.deposit.amount) \(event.data.deposit.currency) held (\(event.data.reason.rawValue))"
                + "  tx \(event.data.deposit.transactionId.prefix(8))"
        case .declined(let event):
            detail =
                "\(event.data.amount) \(event.data.currency) declined (compliance \(event.data.complianceState.rawValue))"
                + "  tx \(event.data.transactionId.prefix(8))"
        case .renewed(let event):
            detail = "\(event.data.currency) purse renewed: \(event.data.expiredAddress) -> \(event.data.address)"
        }
        let columns = [
            topic.padding(toLength: 22, withPad: " ", startingAt: 0),
            customer.padding(toLength: 6, withPad: " ", startingAt: 0),
        ]
        return columns.joined(separator: " ") + " \(detail)  id \(id)"
    }
}
