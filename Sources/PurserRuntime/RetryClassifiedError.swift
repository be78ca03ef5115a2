/// An error that says whether trying the same record again may succeed.
///
/// The runtime retries a record whose error is transient (Calypso 5xx, 429 or a timeout, a retriable
/// Kafka error) with backoff, and dead-letters it on any other error or when the retry budget is spent.
/// Errors that do not conform are permanent unless ``Worker/isTransient(_:)`` says otherwise.
public protocol RetryClassifiedError: Error {
    /// `true` when a later attempt may succeed; `false` when the record itself is at fault.
    var isTransient: Bool { get }
}

/// A worker's way to say "not yet": the record is retried with backoff.
///
/// Use it when a dependency has not caught up (e.g. Calypso's API still shows an earlier transaction
/// state than the webhook did).
public struct RetryLaterError: RetryClassifiedError, CustomStringConvertible {
    public var reason: String
    public var isTransient: Bool { true }

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { "retry later: \(reason)" }
}

/// A worker's way to say "never": the record goes to the dead-letter topic at once.
public struct PermanentRecordError: RetryClassifiedError, CustomStringConvertible {
    public var reason: String
    public var isTransient: Bool { false }

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { "permanent: \(reason)" }
}
