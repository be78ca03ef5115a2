import Calypso
import PurserRuntime
import PurserSchema

/// Turns deposit webhooks into `purser.transaction.updated`: terminal events as Calypso's API confirms
/// them (`transaction/get`), earlier ones as the webhook told them (see ``FetchRule``).
///
/// Reads `calypso.webhooks.v1`, writes `purser.transactions.v1` (the input's partition). The output's id
/// comes from the webhook's event id, so a redelivered or replayed webhook yields the same event.
public struct TransactionFetcher: Worker {
    public static let source = "purser-transaction-fetcher"

    public let name = TopicNames.Worker.transactionFetcher
    public let inputTopics: [String]
    let outputTopic: String
    let calypso: CalypsoClient

    public init(topics: TopicNames, calypso: CalypsoClient) {
        inputTopics = [topics.webhooks]
        outputTopic = topics.transactions
        self.calypso = calypso
    }

    public func process(_ record: InputRecord, context: WorkerContext) async throws -> [OutputRecord] {
        let event = try record.event(of: WebhookReceived.self)
        let webhook = event.data
        let rule = FetchRule(eventType: webhook.eventType.rawValue)
        if rule == .skip { return [] }
        let deposit = try webhook.payload(as: DepositWebhook.self)
        let hop = event.traceparent?.childSpan()
        let update =
            switch rule {
            case .confirmWithAPI:
                try await withTraceParent(hop) { try await confirmedView(of: deposit, rule: rule, webhook: webhook) }
            case .publishWebhookView, .skip:
                try TransactionUpdated(webhookView: deposit, of: webhook)
            }
        let output = CloudEvent(data: update, source: Self.source, traceparent: hop)
        return [output.outputRecord(topic: outputTopic, partition: record.partition)]
    }

    /// `transaction/get`'s view, once it is as far along as the webhook.
    ///
    /// - Throws: ``RetryLaterError`` while the API lags behind the webhook; ``CalypsoError`` when the call fails.
    private func confirmedView(
        of deposit: DepositWebhook,
        rule: FetchRule,
        webhook: WebhookReceived
    ) async throws -> TransactionUpdated {
        let transaction = try await calypso.transaction(id: deposit.transactionId)
        guard
            rule.isCaughtUp(
                transactionState: transaction.transactionState.rawValue,
                translationToAccountCompleted: transaction.translationToAccountCompleted
            )
        else {
            throw RetryLaterError(
                "transaction/get shows \(transaction.transactionState) after \(webhook.eventType) for \(deposit.transactionId)"
            )
        }
        return TransactionUpdated(apiView: transaction, webhook: deposit, eventId: webhook.eventId)
    }
}

extension TransactionUpdated {
    /// The webhook's own view (`verifiedBy: webhook`); states the webhook leaves out are the ones Calypso
    /// documents for its type.
    ///
    /// - Throws: ``PermanentRecordError`` for a webhook without states whose type documents none.
    init(webhookView deposit: DepositWebhook, of webhook: WebhookReceived) throws(PermanentRecordError) {
        let documented = webhook.eventType.documentedStates
        guard
            let transactionState = deposit.transactionState ?? documented?.transaction,
            let complianceState = deposit.complianceState ?? documented?.compliance
        else {
            throw PermanentRecordError("webhook \(webhook.eventId) (\(webhook.eventType)) has no transaction or compliance state")
        }
        self.init(
            transactionId: deposit.transactionId,
            customerId: deposit.customerId,
            purseId: deposit.purseId,
            address: deposit.address,
            currency: deposit.currency,
            amount: deposit.amount,
            transactionHash: deposit.transactionHash,
            addressFrom: deposit.addressFrom,
            transactionState: transactionState,
            complianceState: complianceState,
            translationToAccountCompleted: deposit.translationToAccountCompleted ?? false,
            createdDate: deposit.createdDate ?? "",
            customerBlocked: deposit.customerBlocked ?? false,
            verifiedBy: .webhook,
            webhookEventId: webhook.eventId
        )
    }

    /// The API's view (`verifiedBy: api`). Who the deposit belongs to and the block flag come from the
    /// webhook: `transaction/get` does not document them, and the webhook is signed by Calypso too.
    init(apiView transaction: CalypsoTransaction, webhook deposit: DepositWebhook, eventId: String) {
        self.init(
            transactionId: transaction.id,
            customerId: deposit.customerId,
            purseId: deposit.purseId,
            address: deposit.address,
            currency: transaction.currency,
            amount: transaction.amount,
            transactionHash: transaction.transactionHash ?? deposit.transactionHash,
            addressFrom: transaction.addressFrom ?? deposit.addressFrom,
            transactionState: transaction.transactionState,
            complianceState: transaction.complianceState,
            translationToAccountCompleted: transaction.translationToAccountCompleted,
            createdDate: transaction.createdDate,
            customerBlocked: deposit.customerBlocked ?? false,
            verifiedBy: .api,
            webhookEventId: eventId
        )
    }
}
