/// Exponential backoff with jitter, bounded by a number of attempts and by total time.
///
/// The delay before retry `n` (1 for the first retry) is `initialDelay * multiplier^(n-1)`, capped at
/// `maxDelay`, then reduced by a random fraction of up to `jitter` so that records failing together do not
/// retry together.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included. Default: `8`.
    public var maxAttempts = 8 {
        didSet { precondition(maxAttempts >= 1, "maxAttempts must be at least 1") }
    }
    /// Delay before the first retry. Default: 200 ms.
    public var initialDelay = Duration.milliseconds(200)
    /// Growth of the delay per retry. Default: `2`.
    public var multiplier = 2.0 {
        didSet { precondition(multiplier >= 1, "multiplier must be at least 1") }
    }
    /// Upper bound of one delay. Default: 30 s.
    public var maxDelay = Duration.seconds(30)
    /// Largest fraction removed at random from each delay, in `0...1`. Default: `0.5`.
    public var jitter = 0.5 {
        didSet { precondition((0...1).contains(jitter), "jitter must be in 0...1") }
    }
    /// No retry starts later than this after the first attempt started. Default: 5 minutes.
    public var maxTotalDuration = Duration.seconds(300)

    public init() {}

    /// The delay before retry number `retry` (1-based), jitter applied with `generator`.
    public func delay(beforeRetry retry: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let growth = (0..<max(0, retry - 1)).reduce(1.0) { factor, _ in min(factor * multiplier, 1e9) }
        let base = min(initialDelay * growth, maxDelay)
        guard jitter > 0 else { return base }
        return base * (1 - Double.random(in: 0...jitter, using: &generator))
    }

    /// The delay before retry number `retry` (1-based), with the system's random jitter.
    public func delay(beforeRetry retry: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(beforeRetry: retry, using: &generator)
    }

    /// Runs `operation` until it succeeds, throws an error `isTransient` rejects, or the budget is spent.
    ///
    /// - Parameters:
    ///   - clock: Measures the elapsed time and sleeps between attempts.
    ///   - isTransient: Whether an error is worth another attempt.
    ///   - willRetry: Called before each sleep with the failed attempt's number, its error and the delay.
    ///   - operation: The work, given the attempt number (1-based).
    /// - Throws: ``RetryFailure`` carrying the last error and the number of attempts made; the operation's
    ///   `CancellationError` is passed through unchanged when the task is cancelled.
    public func run<Result, C: Clock<Duration>>(
        clock: C,
        isTransient: (any Error) -> Bool,
        willRetry: (_ attempt: Int, _ error: any Error, _ delay: Duration) -> Void = { _, _, _ in },
        operation: (_ attempt: Int) async throws -> Result
    ) async throws -> Result {
        let start = clock.now
        var attempt = 1
        while true {
            do {
                return try await operation(attempt)
            } catch {
                if error is CancellationError || Task.isCancelled { throw error }
                let delay = delay(beforeRetry: attempt)
                let elapsed = start.duration(to: clock.now)
                guard isTransient(error) else {
                    throw RetryFailure(underlying: error, attempts: attempt, reason: .permanent)
                }
                guard attempt < maxAttempts, elapsed + delay <= maxTotalDuration else {
                    throw RetryFailure(underlying: error, attempts: attempt, reason: .exhausted)
                }
                willRetry(attempt, error, delay)
                try await clock.sleep(for: delay)
                attempt += 1
            }
        }
    }
}

/// Why ``RetryPolicy/run(clock:isTransient:willRetry:operation:)`` gave up on an operation.
public struct RetryFailure: Error, CustomStringConvertible {
    public enum Reason: String, Sendable {
        /// The error was not transient: retrying cannot help.
        case permanent
        /// The error was transient but the attempts or the total time ran out.
        case exhausted
    }

    /// The last error the operation threw.
    public var underlying: any Error
    /// How many attempts were made.
    public var attempts: Int
    public var reason: Reason

    public var description: String {
        "\(reason.rawValue) after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(String(describing: underlying))"
    }
}
