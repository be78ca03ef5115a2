import Logging
import Prometheus
import PurserTesting
import Testing

@testable import PurserRuntime

@Suite struct ProcessingStateTests {
    let partition = TopicPartition(topic: "in", partition: 0)

    func record(_ offset: Int64, key: String) -> InputRecord {
        InputRecord(topic: "in", partition: 0, offset: offset, key: Array(key.utf8), value: nil)
    }

    @Test("a record the consumer no longer counts as current is not scheduled, and the offsets before it still are")
    func recordFromAnEarlierAssignmentIsDropped() {
        let state = ProcessingState(maxInFlight: 4)
        state.assign([partition])
        // Read under an earlier assignment of the partition, whose records come again from the committed offset.
        #expect(state.receive(record(7, key: "a")) { false }.start.isEmpty)
        #expect(state.held == 0)
        #expect(state.receive(record(3, key: "a")) { true }.start.map(\.offset) == [3], "offset 3 is not taken as already received")
    }

    @Test(.timeLimit(.minutes(1)))
    func revokeWakesARecordWaitingToBeRetriedAndItIsAbandoned() async throws {
        let state = ProcessingState(maxInFlight: 4)
        state.assign([partition])
        let input = record(0, key: "a")
        #expect(state.receive(input).start.map(\.offset) == [0])
        var retry = RetryPolicy()
        retry.initialDelay = .seconds(3600)
        retry.jitter = 0
        let processor = RecordProcessor(
            worker: RecordProcessorTests.ScriptedWorker(failures: 100, error: RetryLaterError("down")),
            retry: retry,
            clock: RevocableClock(base: ContinuousClock(), partition: partition, state: state),
            deadLetterTopic: "dlq",
            metrics: WorkerMetrics(worker: "echo", factory: PrometheusMetricsFactory(registry: .init())),
            logger: KafkaTesting.logger,
            partitions: RecordProcessorTests.NoPartitions()
        )
        async let outcome = processor.process(input)
        // Revoking before the sleep registers is fine too: the sleep then ends at once.
        try await Task.sleep(for: .milliseconds(50))
        _ = state.beginRevoke([partition])
        #expect(await outcome == .abandoned, "an hour-long backoff ended by the revoke, not by time")
        _ = state.settle(input, finished: false)
        #expect(state.waitUntilDrained([partition], timeout: .seconds(1)))
        #expect(state.completeRevoke([partition]) == [partition: 0], "the abandoned record is not committed")
    }

    @Test func drainWaitEndsWhenTheLastRunningRecordSettles() async {
        let state = ProcessingState(maxInFlight: 4)
        state.assign([partition])
        _ = state.receive(record(0, key: "a"))
        _ = state.receive(record(1, key: "b"))
        _ = state.beginRevoke([partition])
        #expect(!state.waitUntilDrained([partition], timeout: .milliseconds(10)), "two records still run")
        let drained = Task.detached { state.waitUntilDrained([partition], timeout: .seconds(30)) }
        _ = state.settle(record(0, key: "a"), finished: true)
        _ = state.settle(record(1, key: "b"), finished: true)
        #expect(await drained.value)
        #expect(state.completeRevoke([partition]) == [partition: 2])
    }
}
