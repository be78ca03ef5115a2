import Calypso
import Hummingbird
import PurserJSON
import PurserSchema

extension CalypsoSandbox {
    /// The sandbox-only endpoints under `/sandbox/`: no signature, JSON in and out, errors as
    /// `{errorCode, message}` with 400 (bad input) or 404 (unknown id).
    func addControlRoutes(to router: Router<BasicRequestContext>) {
        control(router, .post, "/sandbox/deposits") { sandbox, body, _ in
            let request = try Self.decode(SandboxDepositRequest.self, from: body)
            return try sandbox.simulateDeposit(try request.deposit())
        }
        control(router, .post, "/sandbox/deposits/{transactionId}/settle") { sandbox, _, parameters in
            let id = parameters.get("transactionId") ?? ""
            try sandbox.settle(transactionId: id)
            return ["transactionId": id]
        }
        control(router, .post, "/sandbox/purses/expire") { sandbox, body, _ in
            let request = try Self.decode(ExpireRequest.self, from: body)
            if let purseId = request.purseId { return try sandbox.expirePurse(id: purseId) }
            guard let customerId = request.customerId, let currency = request.currency else {
                throw SandboxError.badRequest("give purseId, or customerId and currency")
            }
            return try sandbox.expirePurse(customerId: customerId, currency: currency)
        }
        control(router, .get, "/sandbox/faults") { sandbox, _, _ in sandbox.faults }
        control(router, .put, "/sandbox/faults") { sandbox, body, _ in
            // Members left out keep their current value.
            var merged = (try? JSONValueEncoder().encode(sandbox.faults).objectValue) ?? JSONObject()
            guard let patch = body.objectValue else { throw SandboxError.badRequest("body must be a JSON object") }
            for member in patch { merged[member.key] = member.value }
            try sandbox.setFaults(try Self.decode(SandboxFaults.self, from: .object(merged)))
            return sandbox.faults
        }
        control(router, .get, "/sandbox/ledger") { sandbox, _, _ in sandbox.ledger() }
        control(router, .get, "/sandbox/subscriptions/{requestId}/deliveries") { sandbox, _, parameters in
            try sandbox.deliveryStatistics(requestId: parameters.get("requestId") ?? "")
        }
        control(router, .post, "/sandbox/subscriptions/{requestId}/unblock") { sandbox, _, parameters in
            try sandbox.unblockSubscription(requestId: parameters.get("requestId") ?? "")
            return sandbox.webhookSubscriptions().first { $0.requestId == parameters.get("requestId") }
        }
    }

    private func control(
        _ router: Router<BasicRequestContext>,
        _ method: HTTPRequest.Method,
        _ path: RouterPath,
        _ handle: @escaping @Sendable (CalypsoSandbox, JSONValue, Parameters) throws -> (any Encodable)?
    ) {
        router.on(path, method: method) { [self] request, context -> Response in
            var request = request
            do {
                let bytes = try await request.collectBody(upTo: 1 << 20)
                let body: JSONValue
                do {
                    body =
                        bytes.readableBytes == 0
                        ? .object(JSONObject()) : try JSONValue(parsing: bytes.readableBytesView)
                } catch {
                    throw SandboxError.badRequest("body is not JSON: \(error)")
                }
                guard let answer = try handle(self, body, context.parameters) else { return Response(status: .ok) }
                return try Self.json(JSONValueEncoder().encode(answer))
            } catch var error as SandboxError {
                if error.errorCode == CalypsoErrorCode.notFound { error.status = 404 }
                return Self.failure(error)
            }
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from body: JSONValue) throws(SandboxError) -> T {
        do {
            return try JSONValueDecoder().decode(type, from: body)
        } catch {
            throw .badRequest("invalid body: \(error)")
        }
    }
}

struct ExpireRequest: Codable {
    var purseId: String?
    var customerId: String?
    var currency: String?
}
