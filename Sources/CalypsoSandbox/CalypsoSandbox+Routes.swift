import Calypso
import Foundation
import HTTPTypes
import Hummingbird
import PurserJSON
import PurserSchema

extension CalypsoSandbox {
    /// Calypso's API under `/api/v1/` and the sandbox's control endpoints under `/sandbox/`.
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        let purse = "/api/v1/customer-purse"
        api(router, .post, "\(purse)/customer/create") { sandbox, call in
            let details = try call.payload(CalypsoCustomerDetails.self)
            return try sandbox.withWorld { $0.createCustomer(details) }
        }
        api(router, .post, "\(purse)/customer/update") { sandbox, call in
            let id = try call.payload(CustomerId.self).id
            let details = try call.payload(CalypsoCustomerDetails.self)
            return try sandbox.withWorld { world throws(SandboxError) in try world.updateCustomer(id: id, details) }
        }
        for (path, blocked) in [("block", true), ("unblock", false)] {
            api(router, .post, "\(purse)/customer/\(path)") { sandbox, call in
                let id = try call.payload(CustomerReference.self).customerId
                return try sandbox.withWorld { world throws(SandboxError) in
                    try world.setBlocked(blocked, customerId: id)
                }
            }
        }
        api(router, .post, "\(purse)/address/get") { sandbox, call in
            let request = try call.payload(AddressRequest.self)
            return try sandbox.withWorld { world throws(SandboxError) in
                try world.address(customerId: request.customerId, currency: request.currency, now: Date())
            }
        }
        api(router, .post, "\(purse)/purse/get-all") { sandbox, call in
            let id = try call.payload(CustomerReference.self).customerId
            return PurseList(
                purses: try sandbox.withWorld { world throws(SandboxError) in try world.purses(customerId: id) }
            )
        }
        api(router, .post, "\(purse)/transaction/get") { sandbox, call in
            let id = try call.payload(TransactionReference.self).transactionId
            return try sandbox.withWorld { world throws(SandboxError) in try world.transaction(id: id, at: .now) }
        }
        api(router, .post, "\(purse)/transaction/find") { sandbox, call in
            let query = try call.payload(CalypsoTransactionQuery.self)
            return try sandbox.withWorld { world throws(SandboxError) in try world.findTransactions(query, at: .now) }
        }
        api(router, .post, "/api/v1/subscription/webhook") { sandbox, _ in
            SubscriptionList(subscriptions: sandbox.dispatcher.subscriptions())
        }
        api(router, .post, "/api/v1/subscription/webhook/create") { sandbox, call in
            let request = try call.payload(CalypsoSubscriptionRequest.self)
            guard URL(string: request.url)?.host != nil else {
                throw SandboxError.badRequest("url must be an absolute http(s) URL")
            }
            let pair = try sandbox.withWorld { $0.makeKeyPair() }
            let channel = CalypsoWebhookSubscription(
                requestId: request.requestId,
                url: request.url,
                notificationEventTypes: request.notificationEventTypes,
                notificationServiceTypes: request.notificationServiceTypes,
                publicKey: pair.key,
                secretKey: pair.secret,
                createdDate: SandboxDate.iso(Date()),
                blockedByErrorCount: false
            )
            try sandbox.dispatcher.subscribe(channel)
            return channel
        }
        api(router, .delete, "/api/v1/subscription/webhook") { sandbox, call in
            try sandbox.dispatcher.unsubscribe(requestId: try call.payload(SubscriptionReference.self).requestId)
            return nil as String?
        }
        addControlRoutes(to: router)
        return router
    }

    /// One authenticated API call: the body read whole, then Calypso's checks in its order
    /// (`Key` → `002`, `Sign` → `003`, JSON and envelope → `001`, timestamp → `011`,
    /// account → `002`), then the injected faults, then `handle`.
    private func api(
        _ router: Router<BasicRequestContext>,
        _ method: HTTPRequest.Method,
        _ path: String,
        _ handle: @escaping @Sendable (CalypsoSandbox, APICall) throws -> (any Encodable)?
    ) {
        router.on(RouterPath(path), method: method) { [self] request, _ -> Response in
            do {
                let call = try await authenticate(request)
                if let traceParent = request.headers[Self.traceParentHeader] {
                    recordTraceParent(traceParent, path: path)
                }
                let (latency, errorStatus) = drawAPIFaults()
                if latency > .zero { try await Task.sleep(for: latency) }
                if let errorStatus {
                    throw SandboxError(
                        errorCode: CalypsoErrorCode.internalError,
                        message: "injected fault",
                        status: errorStatus
                    )
                }
                guard let answer = try handle(self, call) else { return Response(status: .ok) }
                return try Self.json(JSONValueEncoder().encode(answer))
            } catch let error as SandboxError {
                return Self.failure(error)
            }
        }
    }

    private func authenticate(_ request: Request) async throws -> APICall {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: 1 << 20)
        } catch {
            throw SandboxError.badRequest("body missing or larger than 1 MiB")
        }
        let bytes = body.readableBytesView
        guard request.headers[Self.keyHeader] == configuration.apiCredentials.key else {
            throw SandboxError(errorCode: CalypsoErrorCode.invalidKey, message: "invalid api key")
        }
        guard let sign = request.headers[Self.signHeader],
            CalypsoSignature.isValid(sign, for: bytes, secret: configuration.apiCredentials.secret)
        else {
            throw SandboxError(errorCode: CalypsoErrorCode.wrongSign, message: "wrong sign")
        }
        let envelope: Envelope
        do {
            envelope = try JSONValueDecoder().decode(Envelope.self, from: bytes)
        } catch {
            throw SandboxError.badRequest("invalid request envelope: \(error)")
        }
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        guard abs(now - envelope.timestamp) <= configuration.timestampTolerance.milliseconds else {
            throw SandboxError(errorCode: CalypsoErrorCode.invalidTimestamp, message: "invalid timestamp")
        }
        guard envelope.account == configuration.account else {
            throw SandboxError(errorCode: CalypsoErrorCode.invalidKey, message: "api key does not belong to account")
        }
        return APICall(payload: envelope.payload)
    }

    static let keyHeader = HTTPField.Name("Key")!
    static let signHeader = HTTPField.Name("Sign")!
    static let traceParentHeader = HTTPField.Name("traceparent")!

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: value.serialized()))
        )
    }

    static func failure(_ error: SandboxError) -> Response {
        json(
            ["errorCode": .string(error.errorCode), "message": .string(error.message)],
            status: .init(code: error.status)
        )
    }
}

/// A verified API call's `payload`.
struct APICall: Sendable {
    var payload: JSONValue?

    /// Decodes the payload; a missing payload decodes as an empty object.
    func payload<T: Decodable>(_ type: T.Type) throws(SandboxError) -> T {
        do {
            return try JSONValueDecoder().decode(type, from: payload ?? .object(JSONObject()))
        } catch {
            throw SandboxError.badRequest("invalid payload: \(error)")
        }
    }
}

private struct Envelope: Decodable {
    var account: String
    var timestamp: Int64
    var payload: JSONValue?
}

private struct CustomerId: Decodable { var id: String }
private struct CustomerReference: Decodable { var customerId: String }
private struct AddressRequest: Decodable { var customerId: String; var currency: String }
private struct TransactionReference: Decodable { var transactionId: String }
private struct SubscriptionReference: Decodable { var requestId: String }
private struct PurseList: Encodable { var purses: [CalypsoPurse] }
private struct SubscriptionList: Encodable { var subscriptions: [CalypsoWebhookSubscription] }
