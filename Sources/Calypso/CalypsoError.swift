import Foundation

/// A failed Calypso call, classified once so that callers only ask ``isTransient``.
///
/// Transient: HTTP 5xx and 429, Calypso's internal error `000`, timeouts, connection failures —
/// worth retrying. Permanent: any other 4xx (bad input, unknown key, wrong signature, stale
/// timestamp, not found) and responses that do not decode — a retry would fail the same way.
/// Equality compares the code, the HTTP status and Calypso's error code.
public struct CalypsoError: Error, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is; a struct over a hidden enum so kinds can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String { case api, httpStatus, timeout, transport, invalidResponse, invalidRequest }
        let kind: Kind

        /// Calypso answered with its `{errorCode, message}` body.
        public static let api = Code(kind: .api)
        /// A non-200 status without a Calypso error body (a proxy page, an empty body).
        public static let httpStatus = Code(kind: .httpStatus)
        /// No complete answer within the per-request timeout.
        public static let timeout = Code(kind: .timeout)
        /// The connection failed (refused, reset, DNS).
        public static let transport = Code(kind: .transport)
        /// A 200 whose body is not the documented shape.
        public static let invalidResponse = Code(kind: .invalidResponse)
        /// The request could not be built (for example an invalid base URL).
        public static let invalidRequest = Code(kind: .invalidRequest)

        public var description: String { kind.rawValue }
    }

    public var code: Code
    /// The API path that failed, e.g. `/api/v1/customer-purse/transaction/get`.
    public var operation: String
    /// The HTTP status, when a response arrived.
    public var status: Int?
    /// Calypso's three-digit `errorCode` (`001` bad input, `002` bad key, `003` wrong sign,
    /// `004` not found, `011` bad timestamp, `000` internal), when the body carried one.
    public var errorCode: String?
    /// Calypso's `message`, when the body carried one.
    public var message: String?
    /// The error that caused this one (a transport or decoding error). Not part of equality.
    public var underlying: (any Error)?

    public init(
        code: Code,
        operation: String,
        status: Int? = nil,
        errorCode: String? = nil,
        message: String? = nil,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.operation = operation
        self.status = status
        self.errorCode = errorCode
        self.message = message
        self.underlying = underlying
    }

    /// Whether retrying the same call later may succeed.
    public var isTransient: Bool {
        switch code.kind {
        case .timeout, .transport: true
        case .invalidResponse, .invalidRequest: false
        case .api, .httpStatus:
            errorCode == CalypsoErrorCode.internalError || status.map { $0 >= 500 || $0 == 429 } ?? false
        }
    }

    /// Safe to log: names the operation, status and Calypso code, never a body or a secret.
    public var description: String {
        var text = "Calypso \(operation): \(code)"
        if let status { text += " HTTP \(status)" }
        if let errorCode { text += " errorCode \(errorCode)" }
        return text + (isTransient ? " (transient)" : " (permanent)")
    }

    public var debugDescription: String {
        var text = description
        if let message { text += ": \(message)" }
        if let underlying { text += " [\(String(reflecting: underlying))]" }
        return text
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code && lhs.status == rhs.status && lhs.errorCode == rhs.errorCode
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(status)
        hasher.combine(errorCode)
    }
}

/// Calypso's documented `errorCode` values used by the customer-purse API.
public enum CalypsoErrorCode {
    public static let internalError = "000"
    public static let badRequest = "001"
    public static let invalidKey = "002"
    public static let wrongSign = "003"
    public static let notFound = "004"
    public static let invalidTimestamp = "011"
}
