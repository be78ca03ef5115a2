import Calypso

/// A refusal the sandbox answers with Calypso's `{errorCode, message}` body.
public struct SandboxError: Error, Hashable, CustomStringConvertible {
    public var errorCode: String
    public var message: String
    /// 400 for Calypso's errors (its OpenAPI declares only 400 and 500); the control endpoints
    /// answer `004` with 404.
    public var status: Int = 400

    public var description: String { "\(errorCode): \(message)" }

    static func badRequest(_ message: String) -> Self { Self(errorCode: CalypsoErrorCode.badRequest, message: message) }
    static func notFound(_ message: String) -> Self { Self(errorCode: CalypsoErrorCode.notFound, message: message) }
}
