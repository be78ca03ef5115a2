import Foundation
import Logging
import Metrics
import Prometheus
import PurserTesting
import Synchronization
import Testing

@testable import PurserRuntime

@Suite struct RecordProcessorTests {
    struct NoPartitions: PartitionReader {
        func readFromBeginning(topic: String, partition: Int32, _ body: (InputRecord) async throws -> Void) {}
    }

    /// Fails the first `failures` attempts with `error`, then echoes the record to `out`.
    struct ScriptedWorker: Worker {
        let name = "echo"
        let inputTopics = ["in"]
        let failures: Int
        let error: any Error & Sendable

        func process(_ record: InputRecord, context: WorkerContext) async throws -> [OutputRecord] {
            if context.attempt <= failures { throw error }
            return [OutputRecord(topic: "out", key: record.key, value: record.value)]
        }
    }

    let registry = PrometheusCollectorRegistry()
    let record = InputRecord(
        topic: "in",
        partition: 3,
        offset: 42,
        key: Array("customer-1".utf8),
        value: Array("not json".utf8),
        headers: [RecordHeader(name: "traceparent", string: "00-abc-def-01")]
    )

    func processor(_ worker: some Worker, maxAttempts: Int = 3) -> RecordProcessor<RecordingClock> {
        var retry = RetryPolicy()
        retry.maxAttempts = maxAttempts
        return RecordProcessor(
            worker: worker,
            retry: retry,
            clock: RecordingClock(),
            deadLetterTopic: "purser.dlq.echo.v1",
            metrics: WorkerMetrics(worker: worker.name, factory: PrometheusMetricsFactory(registry: registry)),
            logger: KafkaTesting.logger,
            partitions: NoPartitions()
        )
    }

    func metric(_ name: String) -> String? {
        registry.emitToString().split(separator: "\n").first { $0.hasPrefix(name + "{") }
            .map { String($0.split(separator: " ").last!) }
    }

    @Test func transientErrorIsRetriedThenSucceeds() async {
        let outcome = await processor(ScriptedWorker(failures: 2, error: RetryLaterError("api lags"))).process(record)
        #expect(outcome == .processed([OutputRecord(topic: "out", key: record.key, value: record.value)]))
        #expect(metric("purser_worker_retried_total") == "2")
        #expect(metric("purser_worker_processed_total") == "1")
    }

    @Test func permanentErrorIsDeadLetteredWithOriginalAndFailureHeaders() async throws {
        let outcome = await processor(ScriptedWorker(failures: 1, error: PermanentRecordError("not JSON")))
            .process(record)
        guard case .deadLettered(let deadLetter) = outcome else {
            Issue.record("expected a dead letter, got \(outcome)")
            return
        }
        #expect(deadLetter.topic == "purser.dlq.echo.v1")
        #expect(deadLetter.key == record.key)
        #expect(deadLetter.value == record.value)
        #expect(deadLetter.headers.first == record.headers.first, "original headers come first, unchanged")
        let headers = deadLetter.headers
        #expect(headers.last(named: DeadLetter.Header.error)?.stringValue == "permanent: not JSON")
        #expect(headers.last(named: DeadLetter.Header.reason)?.stringValue == "permanent")
        #expect(headers.last(named: DeadLetter.Header.attempts)?.stringValue == "1")
        #expect(headers.last(named: DeadLetter.Header.worker)?.stringValue == "echo")
        #expect(headers.last(named: DeadLetter.Header.topic)?.stringValue == "in")
        #expect(headers.last(named: DeadLetter.Header.partition)?.stringValue == "3")
        #expect(headers.last(named: DeadLetter.Header.offset)?.stringValue == "42")
        let time = try #require(headers.last(named: DeadLetter.Header.time)?.stringValue)
        #expect(time.hasSuffix("Z") && time.contains("."), "RFC 3339 UTC with fraction: \(time)")
        #expect(metric("purser_worker_dead_lettered_total") == "1")
    }

    @Test func exhaustedRetriesAreDeadLetteredWithTheAttemptCount() async throws {
        let outcome = await processor(ScriptedWorker(failures: 10, error: RetryLaterError("down")), maxAttempts: 3)
            .process(record)
        let deadLetter = try #require(outcome.records.first)
        #expect(deadLetter.headers.last(named: DeadLetter.Header.reason)?.stringValue == "exhausted")
        #expect(deadLetter.headers.last(named: DeadLetter.Header.attempts)?.stringValue == "3")
    }

    @Test func deadLetterReadsBackToTheOriginalForRedrive() throws {
        let written = DeadLetter(
            original: record,
            worker: "echo",
            error: "boom",
            reason: .exhausted,
            attempts: 5,
            time: Date(timeIntervalSince1970: 1_764_064_800.123)
        ).record(topic: "purser.dlq.echo.v1")
        let consumed = InputRecord(
            topic: written.topic,
            partition: 0,
            offset: 7,
            key: written.key,
            value: written.value,
            headers: written.headers
        )
        let read = try #require(DeadLetter(deadLetterRecord: consumed))
        #expect(read.original.topic == "in")
        #expect(read.original.partition == 3)
        #expect(read.original.offset == 42)
        #expect(read.attempts == 5)
        #expect(read.reason == .exhausted)
        #expect(read.error == "boom")
        #expect(abs(read.time.timeIntervalSince1970 - 1_764_064_800.123) < 0.001)
        #expect(read.redriveRecord == OutputRecord(topic: "in", key: record.key, value: record.value, headers: record.headers))
        #expect(DeadLetter(deadLetterRecord: record) == nil, "a record without failure headers is not a dead letter")
    }
}
