import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PurserJSON
import Tracing

/// Calls Calypso's customer-purse API: builds the `{account, timestamp, payload}` envelope,
/// signs the exact bytes it sends, and turns every failure into a classified ``CalypsoError``.
///
/// Create one per process and call ``shutdown()`` when done; calls may run concurrently.
public final class CalypsoClient: Sendable {
    public struct Configuration: Sendable {
        /// Calypso's base URL, e.g. `https://api.calypso.finance` or a sandbox's URL.
        public var baseURL: String
        /// The merchant account id sent as `account` in every envelope.
        public var account: String
        /// The merchant API key pair (`Key` header and signing secret).
        public var credentials: CalypsoKeyPair
        /// Time allowed for one call, from sending to the last response byte. Default: 10 s.
        public var requestTimeout: Duration = .seconds(10)
        /// Time allowed to open a connection. Default: 5 s.
        public var connectTimeout: Duration = .seconds(5)
        /// Concurrent connections kept to Calypso. Default: `8`.
        public var maximumConnections = 8
        /// Largest response body accepted. Default: 8 MiB.
        public var maximumResponseBytes = 8 << 20
        /// The clock that stamps `timestamp`; Calypso rejects stamps more than 3 minutes off.
        public var now: @Sendable () -> Date = { Date() }

        public init(baseURL: String, account: String, credentials: CalypsoKeyPair) {
            self.baseURL = baseURL
            self.account = account
            self.credentials = credentials
        }
    }

    public let configuration: Configuration
    private let httpClient: HTTPClient
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "calypso.client")) {
        self.configuration = configuration
        self.logger = logger
        var httpConfiguration = HTTPClient.Configuration(
            timeout: .init(connect: TimeAmount(configuration.connectTimeout)),
            connectionPool: .init(
                idleTimeout: .seconds(60),
                concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maximumConnections
            )
        )
        httpConfiguration.redirectConfiguration = .disallow
        self.httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
    }

    /// Closes the connection pool. Call once, after the last call has returned.
    public func shutdown() async throws {
        try await httpClient.shutdown()
    }

    // MARK: Customers

    public func createCustomer(_ details: CalypsoCustomerDetails) async throws -> CalypsoCustomer {
        try await call("/api/v1/customer-purse/customer/create", payload: details)
    }

    public func updateCustomer(id: String, _ details: CalypsoCustomerDetails) async throws -> CalypsoCustomer {
        try await call("/api/v1/customer-purse/customer/update", payload: CustomerUpdate(id: id, details: details))
    }

    public func blockCustomer(id: String) async throws -> CalypsoCustomer {
        try await call("/api/v1/customer-purse/customer/block", payload: ["customerId": id])
    }

    public func unblockCustomer(id: String) async throws -> CalypsoCustomer {
        try await call("/api/v1/customer-purse/customer/unblock", payload: ["customerId": id])
    }

    // MARK: Purses

    /// The customer's current deposit address for `currency`; Calypso issues a new purse when
    /// the previous one expired or was declined.
    public func address(customerId: String, currency: String) async throws -> CalypsoPurseAddress {
        try await call(
            "/api/v1/customer-purse/address/get",
            payload: ["customerId": customerId, "currency": currency]
        )
    }

    public func purses(customerId: String) async throws -> [CalypsoPurse] {
        let list: PurseList = try await call(
            "/api/v1/customer-purse/purse/get-all",
            payload: ["customerId": customerId]
        )
        return list.purses
    }

    // MARK: Transactions

    public func transaction(id: String) async throws -> CalypsoTransaction {
        try await call("/api/v1/customer-purse/transaction/get", payload: ["transactionId": id])
    }

    public func findTransactions(_ query: CalypsoTransactionQuery) async throws -> CalypsoTransactionPage {
        try await call("/api/v1/customer-purse/transaction/find", payload: query)
    }

    // MARK: Webhook subscriptions

    public func webhookSubscriptions() async throws -> [CalypsoWebhookSubscription] {
        let list: SubscriptionList = try await call("/api/v1/subscription/webhook", payload: nil as NoPayload?)
        return list.subscriptions
    }

    public func createWebhookSubscription(_ request: CalypsoSubscriptionRequest) async throws
        -> CalypsoWebhookSubscription
    {
        try await call("/api/v1/subscription/webhook/create", payload: request)
    }

    public func deleteWebhookSubscription(requestId: String) async throws {
        // Answers 200 with no content.
        _ = try await exchange("/api/v1/subscription/webhook", method: .DELETE, payload: ["requestId": requestId])
    }

    // MARK: Plumbing

    /// Sends one signed call and decodes its answer.
    /// - Throws: ``CalypsoError`` for every failure; `CancellationError` when the task is cancelled.
    func call<Answer: Decodable>(_ path: String, payload: (some Encodable)?) async throws -> Answer {
        let answer = try await exchange(path, method: .POST, payload: payload)
        do {
            return try CalypsoJSON.decode(Answer.self, from: answer)
        } catch {
            throw CalypsoError(code: .invalidResponse, operation: path, status: 200, underlying: error)
        }
    }

    /// Sends one signed call and returns the body of its 200 answer.
    private func exchange(_ path: String, method: HTTPMethod, payload: (some Encodable)?) async throws -> ByteBuffer {
        let timestamp = Int64((configuration.now().timeIntervalSince1970 * 1000).rounded(.down))
        let body: [UInt8]
        do {
            let envelope = RequestEnvelope(account: configuration.account, timestamp: timestamp, payload: payload)
            body = try JSONValueEncoder().encodeToBytes(envelope)
        } catch {
            throw CalypsoError(code: .invalidRequest, operation: path, underlying: error)
        }
        var request = HTTPClientRequest(url: configuration.baseURL.trimmingSuffix("/") + path)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Key", value: configuration.credentials.key)
        request.headers.add(name: "Sign", value: CalypsoSignature.sign(body, secret: configuration.credentials.secret))
        request.body = .bytes(ByteBuffer(bytes: body))

        let started = ContinuousClock.now
        let context = ServiceContext.current ?? .topLevel
        let (status, answer) = try await withSpan(path, context: context, ofKind: .client) { span in
            Self.propagate(span.context, into: &request.headers)
            return try await send(request, path: path)
        }
        logger.debug(
            "calypso call",
            metadata: [
                "calypso.operation": "\(path)", "calypso.status": "\(status)",
                "calypso.duration": "\(ContinuousClock.now - started)",
            ]
        )
        guard status == 200 else { throw Self.failure(status: status, body: answer, path: path) }
        return answer
    }

    /// The `traceparent` header: the bootstrapped tracer's, or else a new span of the context's
    /// ``ServiceContext/traceParent``.
    static func propagate(_ context: ServiceContext, into headers: inout HTTPHeaders) {
        InstrumentationSystem.instrument.inject(context, into: &headers, using: HTTPHeadersInjector())
        if !headers.contains(name: "traceparent"), let traceParent = context.traceParent {
            headers.add(name: "traceparent", value: traceParent.childSpan().rawValue)
        }
    }

    private func send(_ request: HTTPClientRequest, path: String) async throws -> (Int, ByteBuffer) {
        let deadline = NIODeadline.now() + TimeAmount(configuration.requestTimeout)
        do {
            let response = try await httpClient.execute(request, deadline: deadline, logger: logger)
            let body = try await response.body.collect(upTo: configuration.maximumResponseBytes)
            return (Int(response.status.code), body)
        } catch let error as CancellationError {
            throw error
        } catch let error as HTTPClientError where Self.timeouts.contains(error) {
            throw CalypsoError(code: .timeout, operation: path, underlying: error)
        } catch let error as HTTPClientError where Self.badURLs.contains(error) {
            throw CalypsoError(code: .invalidRequest, operation: path, underlying: error)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw CalypsoError(code: .transport, operation: path, underlying: error)
        }
    }

    private static let timeouts: [HTTPClientError] = [
        .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .getConnectionFromPoolTimeout,
    ]

    private static let badURLs: [HTTPClientError] = [.invalidURL, .emptyHost, .emptyScheme]

    /// Classifies a non-200 answer: Calypso's `{errorCode, message}` body when present, else the status.
    static func failure(status: Int, body: ByteBuffer, path: String) -> CalypsoError {
        if let error = try? CalypsoJSON.decode(ErrorBody.self, from: body) {
            return CalypsoError(
                code: .api,
                operation: path,
                status: status,
                errorCode: error.errorCode,
                message: error.message
            )
        }
        return CalypsoError(code: .httpStatus, operation: path, status: status)
    }
}

// MARK: Wire shapes private to the client

/// `{account, timestamp, payload}`; operations without input send only account and timestamp
/// (Calypso's `EmptyWithAccountContainer`).
struct RequestEnvelope<Payload: Encodable>: Encodable {
    var account: String
    var timestamp: Int64
    var payload: Payload?
}

/// Calypso's error body, `{"errorCode":"003","message":"..."}`.
struct ErrorBody: Codable {
    var errorCode: String
    var message: String?
}

private struct NoPayload: Encodable {}

/// `customer/update` takes the customer's id next to the editable fields.
private struct CustomerUpdate: Encodable {
    var id: String
    var details: CalypsoCustomerDetails

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(details.email, forKey: .email)
        try container.encodeIfPresent(details.description, forKey: .description)
        try container.encodeIfPresent(details.externalId, forKey: .externalId)
    }

    enum CodingKeys: String, CodingKey { case id, email, description, externalId }
}

private struct PurseList: Decodable { var purses: [CalypsoPurse] }
private struct SubscriptionList: Decodable { var subscriptions: [CalypsoWebhookSubscription] }

extension String {
    package func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
