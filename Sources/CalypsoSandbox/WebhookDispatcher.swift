import AsyncHTTPClient
import Calypso
import Foundation
import Logging
import NIOCore
import PurserJSON
import PurserSchema
import ServiceLifecycle
import Synchronization

/// Calypso's retry gaps after a failed delivery: 30 s, 30 s, then each gap the sum of the two
/// before it, for 19 retries (the last gap is 125,430 s).
public enum CalypsoRetrySchedule {
    public static let gaps: [Duration] = {
        var seconds: [Int64] = [30, 30]
        while seconds.count < 19 { seconds.append(seconds[seconds.count - 1] + seconds[seconds.count - 2]) }
        return seconds.map { .seconds($0) }
    }()
}

/// Delivery figures of one subscription.
public struct DeliveryStatistics: Sendable, Hashable, Codable {
    /// HTTP requests made, retries and duplicates included.
    public var attempts = 0
    /// Attempts answered with 200.
    public var delivered = 0
    /// Attempts answered otherwise or not answered.
    public var failed = 0
    /// Extra copies sent by the duplicate-delivery fault.
    public var duplicates = 0
    /// Webhooks held back by the out-of-order fault.
    public var reordered = 0
    /// Webhooks given up after the last retry.
    public var abandoned = 0
    /// Webhooks waiting for their first attempt or a retry.
    public var pending = 0
}

/// Webhook subscriptions and their delivery, as Calypso does it: each webhook is POSTed to every
/// matching subscription, signed with that subscription's secret; only a 200 counts; failures
/// retry on ``CalypsoRetrySchedule`` (scaled by `timeScale`); a subscription with more than 100
/// failures and no success within 10 minutes (scaled) is blocked until unblocked.
///
/// One subscription receives its webhooks one at a time, in order, except where the
/// out-of-order fault holds one back.
final class WebhookDispatcher: Service, Sendable {
    struct Configuration: Sendable {
        var timeScale = 1.0
        var deliveryTimeout: Duration = .seconds(10)
        /// How long an out-of-order webhook waits for a later one to overtake it.
        var reorderHold: Duration = .seconds(1)
        var blockThreshold = 100
        var blockWindow: Duration = .seconds(600)
    }

    fileprivate struct Delivery {
        var sequence: Int
        var eventId: Int64
        var body: [UInt8]
        var retries = 0
        var enqueuedAt: ContinuousClock.Instant
        var due: ContinuousClock.Instant
        var step: StepReference?
        var isHeld = false
        /// Drawn when queued, so that which webhooks get copies depends only on the order of calls.
        var getsDuplicate = false
    }

    fileprivate struct Subscription {
        var channel: CalypsoWebhookSubscription
        var queue: [Delivery] = []
        var abandoned: [Delivery] = []
        var isBusy = false
        var failures: [ContinuousClock.Instant] = []
        var lastSuccess: ContinuousClock.Instant?
        var statistics = DeliveryStatistics()
        /// Event ids of the webhooks answered 200 at least once.
        var acknowledged: Set<Int64> = []

        var isBlocked: Bool { channel.blockedByErrorCount == true }

        func accepts(_ type: WebhookEventType) -> Bool {
            channel.notificationEventTypes?.contains(type.rawValue) == true
                || channel.notificationServiceTypes?.contains(WebhookEventType.customerPurseService) == true
        }
    }

    /// An attempt handed from the lock to a delivery task.
    fileprivate struct Attempt: Sendable {
        var requestId: String
        var sequence: Int
        var eventId: Int64
        var step: StepReference?
        var url: String
        var keyPair: CalypsoKeyPair
        var body: [UInt8]
    }

    fileprivate struct State {
        var subscriptions: [String: Subscription] = [:]
        var order: [String] = []
        var nextEventId: Int64 = 1
        var nextSequence = 0
        var random: SeededRandom
        var faults: SandboxFaults
    }

    private let configuration: Configuration
    private let state: Mutex<State>
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let httpClient: HTTPClient
    private let logger: Logger
    /// Told when a deposit step's webhook is first sent, so `transaction/get` can follow.
    private let onSend: @Sendable (StepReference, ContinuousClock.Instant) -> Void

    init(
        configuration: Configuration,
        seed: UInt64,
        faults: SandboxFaults,
        logger: Logger,
        onSend: @escaping @Sendable (StepReference, ContinuousClock.Instant) -> Void
    ) {
        self.configuration = configuration
        self.onSend = onSend
        self.state = Mutex(State(random: SeededRandom(seed: seed), faults: faults))
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.redirectConfiguration = .disallow
        httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
        self.logger = logger
    }

    // MARK: Subscriptions

    func subscribe(_ channel: CalypsoWebhookSubscription) throws(SandboxError) {
        try state.withLock { state throws(SandboxError) in
            guard state.subscriptions[channel.requestId] == nil else {
                throw .badRequest("subscription \(channel.requestId) already exists")
            }
            state.subscriptions[channel.requestId] = Subscription(channel: channel)
            state.order.append(channel.requestId)
        }
    }

    func subscriptions() -> [CalypsoWebhookSubscription] {
        state.withLock { state in state.order.compactMap { state.subscriptions[$0]?.channel } }
    }

    func unsubscribe(requestId: String) throws(SandboxError) {
        try state.withLock { state throws(SandboxError) in
            guard state.subscriptions.removeValue(forKey: requestId) != nil else {
                throw .notFound("subscription \(requestId) not found")
            }
            state.order.removeAll { $0 == requestId }
        }
    }

    /// Lifts a block and resends what failed meanwhile, as Calypso does when the merchant unblocks.
    func unblock(requestId: String) throws(SandboxError) {
        try state.withLock { state throws(SandboxError) in
            guard var subscription = state.subscriptions[requestId] else {
                throw .notFound("subscription \(requestId) not found")
            }
            let now = ContinuousClock.now
            subscription.channel.blockedByErrorCount = false
            subscription.failures = []
            subscription.queue = (subscription.abandoned + subscription.queue).map { delivery in
                var delivery = delivery
                delivery.due = now
                delivery.retries = 0
                return delivery
            }
            subscription.abandoned = []
            state.subscriptions[requestId] = subscription
        }
        wake.yield()
    }

    func statistics(requestId: String) throws(SandboxError) -> DeliveryStatistics {
        try state.withLock { state throws(SandboxError) in
            guard let subscription = state.subscriptions[requestId] else {
                throw .notFound("subscription \(requestId) not found")
            }
            var statistics = subscription.statistics
            statistics.pending = subscription.queue.count
            return statistics
        }
    }

    func acknowledgedEventIds(requestId: String) throws(SandboxError) -> Set<Int64> {
        try state.withLock { state throws(SandboxError) in
            guard let subscription = state.subscriptions[requestId] else {
                throw .notFound("subscription \(requestId) not found")
            }
            return subscription.acknowledged
        }
    }

    var faults: SandboxFaults {
        get { state.withLock { $0.faults } }
        set { state.withLock { $0.faults = newValue } }
    }

    // MARK: Publishing

    /// Queues each event for every subscription that wants it, in the order given. A deposit
    /// step that no subscription wants counts as sent at once.
    func publish(_ events: [SandboxEvent], at date: Date) {
        guard !events.isEmpty else { return }
        let now = ContinuousClock.now
        let unsent = state.withLock { state in
            var unsent: [StepReference] = []
            for event in events {
                var queued = false
                let eventId = state.nextEventId
                state.nextEventId += 1
                for requestId in state.order {
                    guard var subscription = state.subscriptions[requestId], subscription.accepts(event.type) else {
                        continue
                    }
                    let envelope: JSONValue = [
                        "requestId": .string(requestId), "id": .number(String(eventId)),
                        "createdDate": .string(SandboxDate.webhook(date)), "level": "INFO",
                        "service": .string(WebhookEventType.customerPurseService),
                        "eventType": .string(event.type.rawValue),
                        "data": event.data,
                    ]
                    var delivery = Delivery(
                        sequence: state.nextSequence,
                        eventId: eventId,
                        body: envelope.serialized(),
                        enqueuedAt: now,
                        due: now,
                        step: event.step
                    )
                    queued = true
                    state.nextSequence += 1
                    delivery.getsDuplicate = state.random.chance(state.faults.duplicateDeliveryRate)
                    if state.random.chance(state.faults.outOfOrderDeliveryRate) {
                        delivery.isHeld = true
                        delivery.due = now + configuration.reorderHold
                        subscription.statistics.reordered += 1
                    }
                    subscription.queue.append(delivery)
                    state.subscriptions[requestId] = subscription
                }
                if !queued, let step = event.step { unsent.append(step) }
            }
            return unsent
        }
        for step in unsent { onSend(step, now) }
        wake.yield()
    }

    // MARK: Delivery

    func run() async throws {
        await withDiscardingTaskGroup { group in
            var timerDue: ContinuousClock.Instant?
            for await _ in wakeups.cancelOnGracefulShutdown() {
                let now = ContinuousClock.now
                let (attempts, nextDue) = state.withLock { $0.takeReady(now: now) }
                for attempt in attempts {
                    if let step = attempt.step { onSend(step, now) }
                    group.addTask {
                        await self.deliver(attempt)
                        self.wake.yield()
                    }
                }
                if let nextDue, timerDue.map({ nextDue < $0 || $0 <= now }) ?? true {
                    timerDue = nextDue
                    group.addTask {
                        try? await Task.sleep(until: nextDue, clock: .continuous)
                        self.wake.yield()
                    }
                }
            }
            group.cancelAll()
        }
        try await httpClient.shutdown()
    }

    private func deliver(_ attempt: Attempt) async {
        var request = HTTPClientRequest(url: attempt.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Key", value: attempt.keyPair.key)
        request.headers.add(name: "Sign", value: CalypsoSignature.sign(attempt.body, secret: attempt.keyPair.secret))
        request.body = .bytes(ByteBuffer(bytes: attempt.body))
        var delivered = false
        do {
            let response = try await httpClient.execute(request, timeout: TimeAmount(configuration.deliveryTimeout))
            _ = try await response.body.collect(upTo: 1 << 20)
            delivered = response.status == .ok
        } catch {
            logger.debug("webhook delivery failed", metadata: ["sandbox.error": "\(error)"])
        }
        let now = ContinuousClock.now
        state.withLock { state in
            state.complete(attempt, delivered: delivered, now: now, configuration: configuration)
        }
    }
}

extension WebhookDispatcher.State {
    /// Marks the next due webhook of every idle, unblocked subscription as in flight.
    /// - Returns: the attempts to make and when the earliest waiting webhook falls due.
    fileprivate mutating func takeReady(
        now: ContinuousClock.Instant
    ) -> ([WebhookDispatcher.Attempt], ContinuousClock.Instant?) {
        var attempts: [WebhookDispatcher.Attempt] = []
        var nextDue: ContinuousClock.Instant?
        for requestId in order {
            guard var subscription = subscriptions[requestId], !subscription.isBusy, !subscription.isBlocked,
                let index = subscription.queue.indices.min(by: {
                    (subscription.queue[$0].due, subscription.queue[$0].sequence)
                        < (subscription.queue[$1].due, subscription.queue[$1].sequence)
                })
            else { continue }
            let delivery = subscription.queue[index]
            guard delivery.due <= now else {
                nextDue = min(nextDue ?? delivery.due, delivery.due)
                continue
            }
            subscription.isBusy = true
            subscriptions[requestId] = subscription
            attempts.append(
                .init(
                    requestId: requestId,
                    sequence: delivery.sequence,
                    eventId: delivery.eventId,
                    step: delivery.step,
                    url: subscription.channel.url,
                    keyPair: subscription.channel.keyPair,
                    body: delivery.body
                )
            )
        }
        return (attempts, nextDue)
    }

    fileprivate mutating func complete(
        _ attempt: WebhookDispatcher.Attempt,
        delivered: Bool,
        now: ContinuousClock.Instant,
        configuration: WebhookDispatcher.Configuration
    ) {
        guard var subscription = subscriptions[attempt.requestId],
            let index = subscription.queue.firstIndex(where: { $0.sequence == attempt.sequence })
        else { return }
        subscription.isBusy = false
        subscription.statistics.attempts += 1
        var delivery = subscription.queue.remove(at: index)
        if delivered {
            subscription.statistics.delivered += 1
            subscription.acknowledged.insert(delivery.eventId)
            subscription.lastSuccess = now
            if delivery.getsDuplicate {
                delivery.getsDuplicate = false
                delivery.sequence = nextSequence
                nextSequence += 1
                delivery.due = now
                subscription.queue.append(delivery)
                subscription.statistics.duplicates += 1
            }
        } else {
            subscription.statistics.failed += 1
            let window = configuration.blockWindow * configuration.timeScale
            subscription.failures.append(now)
            subscription.failures.removeAll { $0 < now - window }
            if subscription.failures.count > configuration.blockThreshold,
                subscription.lastSuccess.map({ $0 < now - window }) ?? true
            {
                subscription.channel.blockedByErrorCount = true
            }
            if delivery.retries < CalypsoRetrySchedule.gaps.count {
                delivery.due = now + CalypsoRetrySchedule.gaps[delivery.retries] * configuration.timeScale
                delivery.retries += 1
                subscription.queue.append(delivery)
            } else {
                subscription.statistics.abandoned += 1
                subscription.abandoned.append(delivery)
            }
        }
        // A held webhook goes right after the first later webhook (not a copy of an earlier one) overtook it.
        for held in subscription.queue.indices
        where subscription.queue[held].isHeld && subscription.queue[held].eventId < attempt.eventId {
            subscription.queue[held].isHeld = false
            subscription.queue[held].due = subscription.queue[held].enqueuedAt
        }
        subscriptions[attempt.requestId] = subscription
    }
}
