import PurserJSON
import PurserRuntime
import PurserSchema

/// The `data` of a Calypso deposit webhook (`…_MEM_POOL_FOUND` to `…_TRANSLATION_TO_ACCOUNT_COMPLETED`).
///
/// Members Calypso may leave out on early steps (`transactionHash`, `addressFrom`) are optional; so are
/// the flags, which default to `false`, and the states, which Calypso documents only for
/// `…_MEM_POOL_FOUND` (see ``WebhookEventType/documentedStates``).
struct DepositWebhook: Decodable {
    var transactionId: String
    var customerId: String
    var purseId: String
    var address: String
    var currency: String
    var amount: DecimalAmount
    var transactionHash: String?
    var addressFrom: String?
    var transactionState: TransactionState?
    var complianceState: ComplianceState?
    var translationToAccountCompleted: Bool?
    var createdDate: String?
    var customerBlocked: Bool?
}

/// The `data` of `CUSTOMER_PURSE_EXPIRED`. Calypso documents no currency for it; one is used if sent.
struct PurseExpiredWebhook: Decodable {
    var customerId: String
    var purseId: String
    var address: String
    var currency: String?
    var customerBlocked: Bool?
}

extension WebhookReceived {
    /// The payload decoded as `Payload`.
    ///
    /// - Throws: ``PermanentRecordError`` naming what is missing or malformed.
    func payload<Payload: Decodable>(as type: Payload.Type) throws(PermanentRecordError) -> Payload {
        do {
            return try JSONValueDecoder().decode(Payload.self, from: payload)
        } catch {
            throw PermanentRecordError("payload of webhook \(eventId) (\(eventType)): \(error)")
        }
    }
}
