import Calypso
import CalypsoSandbox
import Foundation
import Logging
import PurserKafka
import PurserSchema

/// The demo of `purser run --demo`: creates customers through Calypso's API, sends deposits through
/// the sandbox's `/sandbox/` endpoints, and prints every public event they lead to, then a summary.
///
/// Scenario: alice gets a deposit whose webhooks Calypso delivers twice, then a second one; bob a
/// deposit with 18 fractional digits and one compliance declines; carol, who is blocked, a deposit
/// that is held; finally alice's purse expires and is renewed.
struct RunDemo: Sendable {
    let calypso: CalypsoClient
    let sandbox: SandboxControlClient
    let events: PublicEventReader.Settings
    /// How long the whole scenario may take, from its first call to its last expected event.
    let timeout: Duration
    /// When `purser run` started, to report how long the first credit took.
    let startedAt: ContinuousClock.Instant
    let output: @Sendable (String) -> Void
    let logger: Logger

    /// What the demo waits for: an event of `topic` about `subjectKey` (transaction or expired purse).
    struct Expectation: Hashable {
        var topic: String
        var subjectKey: String
    }

    /// A demo that did not see what it expected; `description` is the one-line reason.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Plays the scenario and prints the summary.
    /// - Throws: ``Failure`` when the expected events did not all arrive within ``timeout``, or a
    ///   transaction got more than one event; Calypso and Kafka errors as they come.
    func run() async throws {
        let deadline = ContinuousClock.now + timeout
        var reader = try await PublicEventReader(settings: events, logger: logger)
        do {
            try await play(reader: &reader, deadline: deadline)
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
    }

    private func play(reader: inout PublicEventReader, deadline: ContinuousClock.Instant) async throws {
        let usdt = "USDT_TRX"
        let eth = "ETH"
        output("demo: creating customers alice, bob and carol (carol blocked)")
        let alice = try await calypso.createCustomer(Self.details("alice")).id
        let bob = try await calypso.createCustomer(Self.details("bob")).id
        let carol = try await calypso.createCustomer(Self.details("carol")).id
        _ = try await calypso.blockCustomer(id: carol)
        reader.names = [alice: "alice", bob: "bob", carol: "carol"]
        for (customer, currency) in [(alice, usdt), (bob, eth), (carol, usdt)] {
            _ = try await calypso.address(customerId: customer, currency: currency)
        }

        output("demo: alice deposits 125.50 \(usdt); Calypso delivers each of its webhooks twice")
        let subscriptions = try await calypso.webhookSubscriptions().map(\.requestId)
        let copiesBefore = try await deliveries(of: subscriptions).duplicates
        let duplicated = try await depositDeliveredTwice(customer: alice, currency: usdt, amount: "125.50")
        try await reader.wait(
            for: [Expectation(topic: TopicNames.Base.depositsCredited, subjectKey: duplicated)],
            until: deadline
        )
        // Every copy reached ingest before the next deposit's webhooks exist, so alice's later events
        // come after any event the copies could cause, on every topic.
        let copies = try await waitUntilWebhooksDelivered(subscriptions, until: deadline).duplicates - copiesBefore
        guard copies > 0 else { throw Failure(description: "the sandbox delivered no webhook twice") }
        let firstCredit = ContinuousClock.now - startedAt

        output(
            "demo: alice deposits 42 \(usdt), bob 0.123456789012345678 \(eth), carol 250 \(usdt); bob then 99.99 \(eth) that compliance declines"
        )
        let second = try await deposit(customer: alice, currency: usdt, amount: "42")
        let exact = try await deposit(customer: bob, currency: eth, amount: "0.123456789012345678")
        let held = try await deposit(customer: carol, currency: usdt, amount: "250")
        let declined = try await deposit(customer: bob, currency: eth, amount: "99.99", outcome: .declined)
        output("demo: alice's \(usdt) purse expires")
        let expired = try await sandbox.expirePurse(customerId: alice, currency: usdt)

        try await reader.wait(
            for: [
                Expectation(topic: TopicNames.Base.depositsCredited, subjectKey: second),
                Expectation(topic: TopicNames.Base.depositsCredited, subjectKey: exact),
                Expectation(topic: TopicNames.Base.depositsHeld, subjectKey: held),
                Expectation(topic: TopicNames.Base.depositsDeclined, subjectKey: declined),
                Expectation(topic: TopicNames.Base.pursesRenewed, subjectKey: expired.id),
            ],
            until: deadline
        )

        let counts = PublicEvent.topics.map { topic in "\(reader.count(on: topic)) on \(topic)" }
        output("summary: \(counts.joined(separator: ", "))")
        let repeated = reader.subjectsSeenMoreThanOnce()
        guard repeated.isEmpty else {
            throw Failure(description: "more than one public event for \(repeated.sorted().joined(separator: ", "))")
        }
        output("summary: alice's 125.50 \(usdt) deposit: \(copies) webhooks delivered twice, credited once")
        output("summary: first deposit credited \(Self.seconds(firstCredit)) after start")
    }

    private static func details(_ name: String) -> CalypsoCustomerDetails {
        CalypsoCustomerDetails(email: "\(name)@example.com", description: "purser run demo", externalId: "demo-\(name)")
    }

    private func deposit(
        customer: String,
        currency: String,
        amount: String,
        outcome: SandboxDeposit.Outcome = .confirmed
    ) async throws -> String {
        var deposit = SandboxDeposit(customerId: customer, currency: currency, amount: try DecimalAmount(amount))
        deposit.outcome = outcome
        return try await sandbox.simulateDeposit(deposit).transactionId
    }

    /// Sends a deposit while the sandbox duplicates every delivery, then restores its faults.
    private func depositDeliveredTwice(customer: String, currency: String, amount: String) async throws -> String {
        let faults = try await sandbox.faults()
        var duplicating = faults
        duplicating.duplicateDeliveryRate = 1
        try await sandbox.setFaults(duplicating)
        do {
            let transaction = try await deposit(customer: customer, currency: currency, amount: amount)
            try await sandbox.setFaults(faults)
            return transaction
        } catch {
            _ = try? await sandbox.setFaults(faults)
            throw error
        }
    }

    /// Waits until no subscription has a webhook waiting for delivery (copies included).
    /// - Returns: the subscriptions' pending webhooks (none) and copies sent so far, summed.
    private func waitUntilWebhooksDelivered(
        _ subscriptions: [String],
        until deadline: ContinuousClock.Instant
    ) async throws -> (pending: Int, duplicates: Int) {
        while true {
            let statistics = try await deliveries(of: subscriptions)
            if statistics.pending == 0 { return statistics }
            guard ContinuousClock.now < deadline else {
                throw Failure(
                    description: "\(statistics.pending) webhook(s) still undelivered to ingest when the demo timed out"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The delivery statistics of these subscriptions, summed.
    private func deliveries(of subscriptions: [String]) async throws -> (pending: Int, duplicates: Int) {
        var total = (pending: 0, duplicates: 0)
        for requestId in subscriptions {
            let statistics = try await sandbox.deliveryStatistics(requestId: requestId)
            total.pending += statistics.pending
            total.duplicates += statistics.duplicates
        }
        return total
    }

    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return "\(milliseconds / 1000).\(milliseconds % 1000 / 100) s"
    }
}
