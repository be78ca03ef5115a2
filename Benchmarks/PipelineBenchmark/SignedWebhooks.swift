import AsyncHTTPClient
import Calypso
import CalypsoSandbox
import Foundation
import NIOCore
import Synchronization

/// Posts a deposit's webhooks to ingest as Calypso would send them: the envelope, the `data` the sandbox
/// holds for the transaction, signed with the subscription's key pair.
///
/// The benchmark posts them itself, many in flight, because the sandbox (like Calypso) delivers one
/// webhook at a time per subscription, which cannot offer 1,000 deposits/s to an ingest that answers
/// only after the broker acknowledged.
struct SignedWebhooks: Sendable {
    let ingestURL: String
    let keyPair: CalypsoKeyPair
    let client: HTTPClient
    /// Posts ingest did not answer with 200 (each retried).
    let failures = Failures()

    final class Failures: Sendable {
        let count = Atomic<Int>(0)
    }

    /// `…_PENDING_COMPLIANCE` then `…_FUNDS_RECEIVED_FOR_PURSE` for the deposit, in that order.
    func post(deposit index: Int, customerId: String, amount: String, receipt: SandboxDepositReceipt) async {
        for (step, state, compliance) in [
            (1, "PENDING_COMPLIANCE_CHECK", "IN_PROGRESS"), (2, "CONFIRMED", "CHECKED"),
        ] {
            let eventType = step == 1 ? "CUSTOMER_PURSE_PENDING_COMPLIANCE" : "CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE"
            let body = Array(
                #"{"requestId":"a381f753-3079-4214-9720-b416fc35ca10","id":\#(index * 2 + step),"createdDate":"2026-11-25T10:00:00.123","level":"INFO","service":"CUSTOMER_PURSE","eventType":"\#(eventType)","data":{"customerId":"\#(customerId)","customerBlocked":false,"purseId":"\#(receipt.purseId)","address":"\#(receipt.address)","currency":"ETH","transactionId":"\#(receipt.transactionId)","amount":\#(amount),"transactionState":"\#(state)","complianceState":"\#(compliance)","translationToAccountCompleted":false,"createdDate":"2026-11-25T10:00:00.1"}}"#
                    .utf8
            )
            await post(body)
        }
    }

    private func post(_ body: [UInt8]) async {
        var request = HTTPClientRequest(url: ingestURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Key", value: keyPair.key)
        request.headers.add(name: "Sign", value: CalypsoSignature.sign(body, secret: keyPair.secret))
        request.body = .bytes(ByteBuffer(bytes: body))
        // Calypso retries a failed delivery; so does this, sooner.
        for _ in 0..<20 {
            if let response = try? await client.execute(request, timeout: .seconds(10)) {
                _ = try? await response.body.collect(upTo: 1 << 16)
                if response.status == .ok { return }
            }
            failures.count.add(1, ordering: .relaxed)
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
