import PurserRuntime
import PurserSchema

/// Turns each approved deposit into exactly one `deposit.credited`, however often the approval arrives
/// (Calypso redelivery, replays, restarts, partition moves).
///
/// Reads `purser.deposits.approved.v1`; writes `deposits.credited.v1` on the input's partition. The
/// transactions already credited from an input partition are exactly the `deposit.credited` events in
/// the same partition of `deposits.credited.v1` (same key, same partition count), so that partition is
/// read back into a ``DedupWindow`` whenever the input partition is assigned, before any of its records
/// runs; an approval whose transaction is in the window yields nothing.
public struct DepositCrediter: OncePerKeyWorker {
    public static let source = "purser-deposit-crediter"

    public let name = TopicNames.Worker.depositCrediter
    public let inputTopics: [String]
    let outputTopic: String
    let account: String
    let dedupState: DedupState
    var dedupSources: [String] { [outputTopic] }
    let dedupKeyMember = "transactionId"

    /// - Parameters:
    ///   - account: The merchant's Calypso account (`CALYPSO_ACCOUNT_ID`), named in every credit.
    ///   - limits: How many credited transactions each partition remembers, and for how long.
    public init(topics: TopicNames, account: String, limits: DedupWindow.Limits = DedupWindow.Limits()) {
        inputTopics = [topics.depositsApproved]
        outputTopic = topics.depositsCredited
        self.account = account
        dedupState = DedupState(limits: limits)
    }

    func dedupKey(of record: InputRecord) -> String? {
        try? record.event(of: DepositApproved.self).data.deposit.transactionId
    }

    public func process(_ record: InputRecord, context: WorkerContext) async throws -> [OutputRecord] {
        let event = try record.event(of: DepositApproved.self)
        let approval = event.data
        let claim = try dedupState.claim(
            approval.deposit.transactionId,
            partition: record.partition,
            inputOffset: record.offset,
            atMilliseconds: Timestamp.now.millisecondsSince1970
        )
        if claim == .duplicate { return [] }
        let credit = DepositCredited(
            deposit: approval.deposit,
            confirmedAt: approval.confirmedAt,
            creditedAt: .now,
            account: account
        )
        let output = CloudEvent(data: credit, source: Self.source, traceparent: event.traceparent?.childSpan())
        return [output.outputRecord(topic: outputTopic, partition: record.partition)]
    }
}
