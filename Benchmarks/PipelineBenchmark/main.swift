// Deposits per second through the whole pipeline (sandbox → ingest → four workers →
// deposits.credited.v1) and webhook→credit latency, next to the embedded broker alone over the same four
// hops, in one run. `make bench` runs it; BENCH_RATE, BENCH_SECONDS, BENCH_SATURATION_DEPOSITS (or
// --rate, --seconds, --saturation-deposits) change the load. Results also go to .bench/pipeline.json.
import AsyncHTTPClient
import Foundation
import Logging
import PurserAudit
import PurserKafka
import PurserRuntime
import PurserSchema

func setting(_ flag: String, _ variable: String, default value: Double) -> Double {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: flag), index + 1 < arguments.count, let number = Double(arguments[index + 1]) {
        return number
    }
    return ProcessInfo.processInfo.environment[variable].flatMap(Double.init) ?? value
}

let rate = setting("--rate", "BENCH_RATE", default: 1000)
let seconds = setting("--seconds", "BENCH_SECONDS", default: 60)
let saturationDeposits = Int(setting("--saturation-deposits", "BENCH_SATURATION_DEPOSITS", default: 20_000))
let partitions = 12
let customerCount = 100
let warmUpDeposits = 200
let saturationInFlight = 256

let logger: Logger = {
    var logger = Logger(label: "purser.pipeline-bench")
    // librdkafka reports each refused connection while clients wind down between phases.
    logger.logLevel = .critical
    return logger
}()

struct PhaseResult: Codable {
    var name: String
    var guarantee: String
    var offeredPerSecond: Double?
    var deposits: Int
    var creditedPerSecond: Double
    var latencyMs: LatencySummary
    var baselinePerSecond: Double
    var baselineLatencyMs: LatencySummary
    var audit: DepositAudit
    var webhookRetries: Int
}

/// Runs the pipeline with `guarantee`, offers `count` deposits (`perSecond` of them a second, or all at
/// once), and measures every measured deposit's webhook→credit latency from the events' times.
func measurePipeline(_ guarantee: ProcessingGuarantee, count: Int, perSecond: Double?, client: HTTPClient) async throws
    -> (perSecond: Double, latencies: [Double], audit: DepositAudit, webhookRetries: Int)
{
    let pipeline = try await PipelineUnderTest(guarantee: guarantee, partitions: partitions, client: client, logger: logger)
    let tail = try PublishedTail(brokers: pipeline.kafka.brokers, topics: pipeline.topics, partitions: partitions, logger: logger)
    let customers = try await pipeline.makeCustomers(customerCount)

    // Warm-up: every worker has joined its group and credited once before the clock starts.
    try await withThrowingDiscardingTaskGroup { group in
        for index in 0..<warmUpDeposits { group.addTask { try await pipeline.deposit(index, customers: customers) } }
    }
    try await waitFor(timeout: .seconds(120)) { tail.creditedCount >= warmUpDeposits }

    let start = ContinuousClock.now
    let startDate = Date()
    // Each deposit's webhooks are posted on their own, so a slow answer does not hold back the rate;
    // at saturation at most `saturationInFlight` deposits are in flight.
    try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<count {
            if let perSecond {
                try await Task.sleep(until: start + .seconds(Double(index) / perSecond), clock: .continuous)
            } else if index >= saturationInFlight {
                try await group.next()
            }
            group.addTask { try await pipeline.deposit(warmUpDeposits + index, customers: customers) }
        }
        try await group.waitForAll()
    }
    let total = warmUpDeposits + count
    try await waitFor(timeout: .seconds(120) + .seconds(Double(count) / 200)) { tail.creditedCount >= total }
    // Anything still on its way (a duplicate credit) lands meanwhile.
    try await Task.sleep(for: .seconds(2))
    await tail.stop()

    var firstCredit: [String: PublishedTail.Credit] = [:]
    for credit in tail.credits where firstCredit[credit.deposit.transactionId] == nil {
        firstCredit[credit.deposit.transactionId] = credit
    }
    let measured = firstCredit.values.compactMap { credit -> (received: Timestamp, credited: Timestamp)? in
        guard let received = tail.receivedAt(credit.deposit.transactionId), received.date >= startDate else { return nil }
        return (received, credit.time)
    }
    let latencies = measured.map { Double($0.credited.millisecondsSince1970 - $0.received.millisecondsSince1970) }
    let first = measured.map(\.received.millisecondsSince1970).min() ?? 0
    let last = measured.map(\.credited.millisecondsSince1970).max() ?? 0
    let creditedPerSecond = Double(measured.count) / (Double(max(last - first, 1)) / 1000)

    let admin = try KafkaAdmin(options: KafkaClientOptions(bootstrapServers: pipeline.kafka.brokers), logger: logger)
    let holds = try await PublishedDeposits(admin: admin, topics: pipeline.topics).holds()
    let audit = DepositAudit(ledger: pipeline.sandbox.ledger(), credits: tail.credits.map(\.deposit), holds: holds.map(\.data.deposit))
    let retries = pipeline.webhooks.failures.count.load(ordering: .relaxed)
    try await pipeline.stop()
    return (creditedPerSecond, latencies, audit, retries)
}

func waitFor(timeout: Duration, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw BenchmarkError("timed out after \(timeout)") }
        try await Task.sleep(for: .milliseconds(50))
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func format(_ latency: LatencySummary) -> String {
    String(format: "p50 %.0f ms, p99 %.0f ms, max %.0f ms", latency.p50, latency.p99, latency.max)
}

func report(_ result: PhaseResult) {
    let offered = result.offeredPerSecond.map { String(format: "offered %.0f/s", $0) } ?? "saturation"
    print("\(result.name) [\(result.guarantee), \(offered), \(result.deposits) deposits]")
    print(
        String(
            format: "  pipeline  %8.0f credits/s   webhook→credited %@",
            result.creditedPerSecond,
            format(result.latencyMs)
        )
    )
    print(
        String(
            format: "  baseline  %8.0f records/s   produce→consume over %d hops %@",
            result.baselinePerSecond,
            HopBaseline.hops,
            format(result.baselineLatencyMs)
        )
    )
    print(
        String(
            format: "  ratio     throughput %.2f, p99 latency %.1f×",
            result.creditedPerSecond / result.baselinePerSecond,
            result.latencyMs.p99 / result.baselineLatencyMs.p99
        )
    )
    let audit = result.audit
    print(
        "  audit     \(audit.confirmed) confirmed, \(audit.credited) credited, \(audit.held) held, \(audit.lost) lost, "
            + "\(audit.duplicated) duplicated, \(audit.unexpected) unexpected\(audit.isClean ? "" : "  ← FAILED")"
    )
}

let client = HTTPClient(
    eventLoopGroupProvider: .singleton,
    configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128))
)
let offeredCount = Int(rate * seconds)
print(
    "pipeline benchmark: \(partitions) partitions, \(customerCount) customers, embedded broker; "
        + "the benchmark posts each deposit's two signed webhooks to ingest; the fetcher calls transaction/get on the sandbox"
)
let hop = HopBaseline(partitions: partitions, logger: logger)
let baselineAtRate = try await hop.run(count: offeredCount, perSecond: rate)
let baselineSaturated = try await hop.run(count: saturationDeposits, perSecond: nil)

var results: [PhaseResult] = []
for (guarantee, perSecond, count) in [
    (ProcessingGuarantee.exactlyOnce, Optional(rate), offeredCount),
    (.atLeastOnce, rate, offeredCount),
    (.exactlyOnce, nil, saturationDeposits),
    (.atLeastOnce, nil, saturationDeposits),
] {
    let measured = try await measurePipeline(guarantee, count: count, perSecond: perSecond, client: client)
    let baseline = perSecond == nil ? baselineSaturated : baselineAtRate
    let result = PhaseResult(
        name: perSecond == nil ? "saturation" : "fixed rate",
        guarantee: guarantee.description,
        offeredPerSecond: perSecond,
        deposits: count,
        creditedPerSecond: measured.perSecond,
        latencyMs: LatencySummary(milliseconds: measured.latencies),
        baselinePerSecond: baseline.perSecond,
        baselineLatencyMs: LatencySummary(milliseconds: baseline.latencies),
        audit: measured.audit,
        webhookRetries: measured.webhookRetries
    )
    report(result)
    results.append(result)
}
try await client.shutdown().get()

try FileManager.default.createDirectory(atPath: ".bench", withIntermediateDirectories: true)
let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
try encoder.encode(results).write(to: URL(fileURLWithPath: ".bench/pipeline.json"))
print("results written to .bench/pipeline.json")
if results.contains(where: { !$0.audit.isClean }) { exit(1) }
