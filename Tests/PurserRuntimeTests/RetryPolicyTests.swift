import PurserRuntime
import Synchronization
import Testing

@Suite struct RetryPolicyTests {
    struct Flaky: RetryClassifiedError {
        var isTransient: Bool
    }

    @Test func delaysGrowExponentiallyUpToTheCap() {
        var policy = RetryPolicy()
        policy.initialDelay = .milliseconds(100)
        policy.multiplier = 3
        policy.maxDelay = .seconds(2)
        policy.jitter = 0
        let delays = (1...5).map { policy.delay(beforeRetry: $0) }
        #expect(delays == [.milliseconds(100), .milliseconds(300), .milliseconds(900), .seconds(2), .seconds(2)])
    }

    @Test func jitterOnlyShortensADelayByAtMostItsFraction() {
        var policy = RetryPolicy()
        policy.initialDelay = .seconds(1)
        policy.jitter = 0.25
        var generator = SplitMix64(seed: 7)
        let delays = (0..<200).map { _ in policy.delay(beforeRetry: 1, using: &generator) }
        #expect(delays.allSatisfy { $0 >= .milliseconds(750) && $0 <= .seconds(1) })
        #expect(Set(delays).count > 100, "jitter spreads retries apart")
    }

    @Test func transientErrorIsRetriedUntilItSucceeds() async throws {
        var policy = RetryPolicy()
        policy.jitter = 0
        let clock = RecordingClock()
        var retries: [Int] = []
        let result = try await policy.run(
            clock: clock,
            isTransient: { ($0 as? Flaky)?.isTransient ?? false },
            willRetry: { attempt, _, _ in retries.append(attempt) }
        ) { attempt in
            if attempt < 3 { throw Flaky(isTransient: true) }
            return attempt
        }
        #expect(result == 3)
        #expect(retries == [1, 2])
        #expect(clock.sleeps == [.milliseconds(200), .milliseconds(400)])
    }

    @Test func permanentErrorIsNotRetried() async throws {
        let clock = RecordingClock()
        let error = await #expect(throws: RetryFailure.self) {
            try await RetryPolicy().run(clock: clock, isTransient: { _ in false }) { _ in
                throw Flaky(isTransient: false)
            }
        }
        #expect(error?.attempts == 1)
        #expect(error?.reason == .permanent)
        #expect(clock.sleeps.isEmpty)
    }

    @Test func attemptsAreBounded() async throws {
        var policy = RetryPolicy()
        policy.maxAttempts = 4
        let clock = RecordingClock()
        let error = await #expect(throws: RetryFailure.self) {
            try await policy.run(clock: clock, isTransient: { _ in true }) { _ in throw Flaky(isTransient: true) }
        }
        #expect(error?.attempts == 4)
        #expect(error?.reason == .exhausted)
        #expect(clock.sleeps.count == 3)
    }

    @Test func totalTimeIsBounded() async throws {
        var policy = RetryPolicy()
        policy.maxAttempts = 100
        policy.jitter = 0
        policy.initialDelay = .seconds(1)
        policy.multiplier = 2
        policy.maxTotalDuration = .seconds(10)
        let clock = RecordingClock()
        let error = await #expect(throws: RetryFailure.self) {
            try await policy.run(clock: clock, isTransient: { _ in true }) { _ in throw Flaky(isTransient: true) }
        }
        // Sleeps of 1, 2 and 4 s fit in 10 s; the next (8 s) would end at 15 s.
        #expect(clock.sleeps == [.seconds(1), .seconds(2), .seconds(4)])
        #expect(error?.attempts == 4)
        #expect(error?.reason == .exhausted)
    }
}

/// A clock whose sleeps return at once after moving its time forward, recording each sleep.
final class RecordingClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let state = Mutex((now: Instant(offset: .zero), sleeps: [Duration]()))

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }
    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        state.withLock { state in
            state.sleeps.append(state.now.duration(to: deadline))
            state.now = deadline
        }
    }
}
