import AsyncHTTPClient
import Calypso
import NIOCore
import NIOHTTP1
import PurserJSON

/// Drives a sandbox in another process through its `/sandbox/` endpoints, with the same
/// operations as ``CalypsoSandbox``'s control methods.
///
/// - Throws: every method throws ``SandboxError`` when the sandbox refuses (with its status),
///   and AsyncHTTPClient's errors when it cannot be reached.
public struct SandboxControlClient: Sendable {
    public var baseURL: String
    public var timeout: Duration
    private let httpClient: HTTPClient

    /// - Parameters:
    ///   - baseURL: the sandbox's `http://host:port`.
    ///   - httpClient: the client to send with; the process-wide shared one by default.
    public init(baseURL: String, timeout: Duration = .seconds(10), httpClient: HTTPClient = .shared) {
        self.baseURL = baseURL.trimmingSuffix("/")
        self.timeout = timeout
        self.httpClient = httpClient
    }

    public func simulateDeposit(_ deposit: SandboxDeposit) async throws -> SandboxDepositReceipt {
        try await send(.POST, "/sandbox/deposits", SandboxDepositRequest(deposit))
    }

    public func settle(transactionId: String) async throws {
        let _: JSONValue = try await send(.POST, "/sandbox/deposits/\(transactionId)/settle")
    }

    public func expirePurse(id: String) async throws -> CalypsoPurseAddress {
        try await send(.POST, "/sandbox/purses/expire", ExpireRequest(purseId: id))
    }

    public func expirePurse(customerId: String, currency: String) async throws -> CalypsoPurseAddress {
        try await send(.POST, "/sandbox/purses/expire", ExpireRequest(customerId: customerId, currency: currency))
    }

    public func faults() async throws -> SandboxFaults {
        try await send(.GET, "/sandbox/faults")
    }

    /// Replaces every fault knob.
    @discardableResult
    public func setFaults(_ faults: SandboxFaults) async throws -> SandboxFaults {
        try await send(.PUT, "/sandbox/faults", faults)
    }

    public func ledger() async throws -> SandboxLedger {
        try await send(.GET, "/sandbox/ledger")
    }

    public func unblockSubscription(requestId: String) async throws {
        let _: JSONValue = try await send(.POST, "/sandbox/subscriptions/\(requestId)/unblock")
    }

    public func deliveryStatistics(requestId: String) async throws -> DeliveryStatistics {
        try await send(.GET, "/sandbox/subscriptions/\(requestId)/deliveries")
    }

    private func send<Answer: Decodable>(
        _ method: HTTPMethod,
        _ path: String,
        _ body: (some Encodable)? = nil as JSONValue?
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONValueEncoder().encodeToBytes(body)))
        }
        let response = try await httpClient.execute(request, timeout: TimeAmount(timeout))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let json = bytes.readableBytes == 0 ? JSONValue.null : try JSONValue(parsing: bytes.readableBytesView)
        guard response.status == .ok else {
            throw SandboxError(
                errorCode: json["errorCode"]?.stringValue ?? CalypsoErrorCode.internalError,
                message: json["message"]?.stringValue ?? "HTTP \(response.status.code)",
                status: Int(response.status.code)
            )
        }
        return try JSONValueDecoder().decode(Answer.self, from: json)
    }
}
