import Calypso
import PurserRuntime
import PurserSchema

/// On `CUSTOMER_PURSE_EXPIRED` for a customer who is not blocked, asks Calypso for the customer's new
/// address (`address/get`, with the expired purse's currency from `purse/get-all` when the webhook names
/// none) and publishes `purse.renewed`, once per expired purse (see ``RenewalRule``).
///
/// Reads `calypso.webhooks.v1` and the customer table; writes `purses.renewed.v1` on the input's
/// partition, from whose same partition the renewed purses are rebuilt when a partition is assigned.
public struct PurseRenewer: OncePerKeyWorker {
    public static let source = "purser-purse-renewer"

    public let name = TopicNames.Worker.purseRenewer
    public let inputTopics: [String]
    let outputTopic: String
    let calypso: CalypsoClient
    let customers: CustomerTable
    let dedupState: DedupState
    var dedupSources: [String] { [outputTopic] }
    let dedupKeyMember = "expiredPurseId"

    public init(
        topics: TopicNames,
        calypso: CalypsoClient,
        customers: CustomerTable,
        limits: DedupWindow.Limits = DedupWindow.Limits()
    ) {
        inputTopics = [topics.webhooks]
        outputTopic = topics.pursesRenewed
        self.calypso = calypso
        self.customers = customers
        dedupState = DedupState(limits: limits)
    }

    func dedupKey(of record: InputRecord) -> String? {
        try? record.event(of: WebhookReceived.self).data.payload(as: PurseExpiredWebhook.self).purseId
    }

    public func process(_ record: InputRecord, context: WorkerContext) async throws -> [OutputRecord] {
        let event = try record.event(of: WebhookReceived.self)
        guard event.data.eventType.rawValue == RenewalRule.expiredEventType else { return [] }
        let expiry = try event.data.payload(as: PurseExpiredWebhook.self)
        let verdict = RenewalRule.verdict(
            eventType: event.data.eventType.rawValue,
            blockedByWebhook: expiry.customerBlocked ?? false,
            blockedByCustomerTable: try await customers.value(forKey: expiry.customerId)
        )
        guard verdict == .renew else { return [] }
        // Skip the call for a purse already renewed; claim only once the call has succeeded.
        let partition = record.partition
        if try dedupState.peek(expiry.purseId, partition: partition, inputOffset: record.offset) == .duplicate { return [] }

        let hop = event.traceparent?.childSpan()
        let currency = try await withTraceParent(hop) { try await expiredPurseCurrency(expiry) }
        let current = try await withTraceParent(hop) {
            try await calypso.address(customerId: expiry.customerId, currency: currency)
        }
        guard current.id != expiry.purseId else {
            throw RetryLaterError("address/get still answers the expired purse \(expiry.purseId)")
        }
        let claim = try dedupState.claim(
            expiry.purseId,
            partition: partition,
            inputOffset: record.offset,
            atMilliseconds: Timestamp.now.millisecondsSince1970
        )
        if claim == .duplicate { return [] }
        let renewal = PurseRenewed(
            customerId: expiry.customerId,
            currency: currency,
            expiredPurseId: expiry.purseId,
            expiredAddress: expiry.address,
            purseId: current.id,
            address: current.address,
            renewedAt: .now
        )
        let output = CloudEvent(data: renewal, source: Self.source, traceparent: hop)
        return [output.outputRecord(topic: outputTopic, partition: partition)]
    }

    /// The expired purse's currency, which `address/get` needs: the webhook's when it names one (Calypso
    /// documents none), else the one `purse/get-all` lists for the purse.
    ///
    /// - Throws: ``RetryLaterError`` while Calypso does not list the purse with a currency.
    private func expiredPurseCurrency(_ expiry: PurseExpiredWebhook) async throws -> String {
        if let currency = expiry.currency { return currency }
        let purses = try await calypso.purses(customerId: expiry.customerId)
        guard let currency = purses.first(where: { $0.id == expiry.purseId })?.currency else {
            throw RetryLaterError("purse/get-all lists no currency for the expired purse \(expiry.purseId)")
        }
        return currency
    }
}
