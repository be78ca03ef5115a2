import PurserRuntime
import PurserSchema

/// Decides, once per Calypso transaction, whether a deposit is credited, held or declined
/// (see ``DepositPolicy``).
///
/// Reads `purser.transactions.v1` and the customer table; writes `purser.deposits.approved.v1`,
/// `deposits.held.v1` or `deposits.declined.v1` on the input's partition. A transaction already decided
/// (a later webhook, a duplicate, a replay) yields nothing: the decisions of each input partition are
/// rebuilt from those three topics' same partition when it is assigned.
public struct CustomerPolicy: OncePerKeyWorker {
    public static let source = "purser-customer-policy"

    public let name = TopicNames.Worker.customerPolicy
    public let inputTopics: [String]
    let topics: TopicNames
    let policy: DepositPolicy
    let account: String
    let customers: CustomerTable
    let dedupState: DedupState
    let dedupKeyMember = "transactionId"

    /// - Parameters:
    ///   - account: The merchant's Calypso account (`CALYPSO_ACCOUNT_ID`), named in `deposit.held`.
    ///   - limits: How many decisions each partition remembers, and for how long.
    public init(
        topics: TopicNames,
        creditOn: CreditOn,
        account: String,
        customers: CustomerTable,
        limits: DedupWindow.Limits = DedupWindow.Limits()
    ) {
        inputTopics = [topics.transactions]
        self.topics = topics
        policy = DepositPolicy(waitsForSettlement: creditOn == .settled)
        self.account = account
        self.customers = customers
        dedupState = DedupState(limits: limits)
    }

    var dedupSources: [String] { [topics.depositsApproved, topics.depositsHeld, topics.depositsDeclined] }

    func dedupKey(of record: InputRecord) -> String? {
        try? record.event(of: TransactionUpdated.self).data.transactionId
    }

    public func process(_ record: InputRecord, context: WorkerContext) async throws -> [OutputRecord] {
        let event = try record.event(of: TransactionUpdated.self)
        let transaction = event.data
        let decision = policy.decide(
            transactionState: transaction.transactionState.rawValue,
            complianceState: transaction.complianceState.rawValue,
            translationToAccountCompleted: transaction.translationToAccountCompleted,
            blockedByWebhook: transaction.customerBlocked,
            blockedByCustomerTable: try await customers.value(forKey: transaction.customerId)
        )
        if decision == .undecided { return [] }
        let claim = try dedupState.claim(
            transaction.transactionId,
            partition: record.partition,
            inputOffset: record.offset,
            atMilliseconds: Timestamp.now.millisecondsSince1970
        )
        if claim == .duplicate { return [] }

        let traceparent = event.traceparent?.childSpan()
        let deposit = DepositDetails(transaction)
        let output: OutputRecord
        switch decision {
        case .approve:
            let approved = DepositApproved(deposit: deposit, confirmedAt: event.time, approvedAt: .now)
            output = CloudEvent(data: approved, source: Self.source, traceparent: traceparent)
                .outputRecord(topic: topics.depositsApproved, partition: record.partition)
        case .hold(let reason):
            let held = DepositHeld(
                deposit: deposit,
                confirmedAt: event.time,
                creditedAt: .now,
                account: account,
                reason: reason
            )
            output = CloudEvent(data: held, source: Self.source, traceparent: traceparent)
                .outputRecord(topic: topics.depositsHeld, partition: record.partition)
        case .decline:
            let declined = DepositDeclined(
                transactionId: transaction.transactionId,
                customerId: transaction.customerId,
                purseId: transaction.purseId,
                address: transaction.address,
                currency: transaction.currency,
                amount: transaction.amount,
                complianceState: transaction.complianceState,
                declinedAt: .now
            )
            output = CloudEvent(data: declined, source: Self.source, traceparent: traceparent)
                .outputRecord(topic: topics.depositsDeclined, partition: record.partition)
        case .undecided:
            return []
        }
        return [output]
    }
}
