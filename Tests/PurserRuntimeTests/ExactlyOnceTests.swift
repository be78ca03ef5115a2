import PurserKafka
import PurserRuntime
import PurserTesting
import Testing

/// `PROCESSING_GUARANTEE=exactly_once` on the embedded broker.
///
/// The embedded broker (librdkafka's mock cluster) acknowledges TxnOffsetCommit without storing the
/// offsets and does not hide aborted records, so these tests check the call flow and the recovery from
/// transaction errors, not that offsets move with the outputs; that needs a real broker.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ExactlyOnceTests {
    func exactlyOnce(_ fixture: WorkerFixture) -> PurserConfiguration {
        var configuration = fixture.configuration()
        configuration.processingGuarantee = .exactlyOnce
        return configuration
    }

    @Test("outputs and dead letters are published inside transactions")
    func outputsAndDeadLettersGoThroughTransactions() async throws {
        let fixture = try WorkerFixture(partitions: 2)
        for index in 0..<20 { _ = try await fixture.send("customer-\(index % 5)", index == 7 ? "poison" : "ok") }

        let (outputs, deadLetters) = try await fixture.withWorker(configuration: exactlyOnce(fixture)) { _ in
            (
                try await fixture.read(fixture.output, count: 19, partitions: 2),
                try await fixture.read(fixture.deadLetterTopic, count: 1)
            )
        }
        #expect(Set(outputs.map { "\($0.partition)/\($0.offset)" }).count == 19)
        #expect(deadLetters.first?.header(DeadLetter.Header.reason) == "permanent")
        #expect(fixture.log.finished.count == 19)
    }

    @Test("a fenced transaction makes the worker re-join and carry on, not crash")
    func fencingIsHandledByRejoining() async throws {
        let fixture = try WorkerFixture()
        _ = try await fixture.send("customer-1", "ok")
        _ = try await fixture.send("customer-2", "ok")
        try await fixture.withWorker(configuration: exactlyOnce(fixture)) { service in
            // Both records are processed before the fence is armed: the commit loop ends a transaction every
            // 100 ms, so armed earlier the fence could end the session before customer-2 ever reached it.
            _ = try await fixture.read(fixture.output, count: 2)
            #expect(fixture.log.finished.map(\.key).sorted() == ["customer-1", "customer-2"])
            fixture.kafka.pushRequestErrors(.endTxn, [.producerFenced])
            _ = try await fixture.send("customer-3", "ok")
            // The next commit is fenced: that session ends and the worker re-joins from the group's committed
            // offsets. The embedded broker stores no offsets sent in a transaction, so the new session starts
            // from the beginning: both records are processed again, then the later one.
            try await fixture.eventually("customer-1 and customer-2 processed again, customer-3 processed") {
                let finished = fixture.log.finished.map(\.key)
                return finished.filter { $0 == "customer-1" }.count >= 2
                    && finished.filter { $0 == "customer-2" }.count >= 2
                    && finished.contains("customer-3")
            }
            try await fixture.eventually("ready again") { service.isReady }
        }
        #expect(try await fixture.committedOffset() == nil, "the re-join above started from the beginning")
    }
}
