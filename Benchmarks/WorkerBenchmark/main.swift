// Worker throughput on the embedded broker, each against a bound or baseline measured in this run:
// - the transaction fetcher with every `transaction/get` answered by the sandbox after 50 ms, against
//   the bound `WORKER_MAX_IN_FLIGHT ÷ latency`;
// - the deposit crediter, with `PROCESSING_GUARANTEE=exactly_once` and then `at_least_once`, each against a
//   plain consume of the same approved topic.
import Calypso
import CalypsoSandbox
import Foundation
import Logging
import PurserJSON
import PurserKafka
import PurserRuntime
import PurserSchema
import PurserTesting
import PurserWorkers
import ServiceLifecycle

let environment = ProcessInfo.processInfo.environment
let webhookCount = Int(environment["BENCH_WEBHOOKS"] ?? "") ?? 20_000
let approvalCount = Int(environment["BENCH_APPROVALS"] ?? "") ?? 30_000
let customerCount = 1_000
let partitions = 6
let maxInFlight = Int(environment["BENCH_IN_FLIGHT"] ?? "") ?? 256
let apiLatency = Duration.milliseconds(50)
let account = "0x00000000000000000000000000000000000000aa"
let apiKeyPair = CalypsoKeyPair(key: "c529e14832b34b74972365cf7bf02430", secret: "b823a6b9ea72408583cef9ec8d67fa52")
/// `BENCH_LOG_LEVEL=debug` shows, for one, when the workers pause and resume intake.
let logger = {
    var logger = Logger(label: "worker-benchmark")
    logger.logLevel = ProcessInfo.processInfo.environment["BENCH_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
    return logger
}()

/// The sandbox's configuration, the same wherever it runs.
func sandboxConfiguration() -> SandboxConfiguration {
    var configuration = SandboxConfiguration(account: account, apiCredentials: apiKeyPair)
    configuration.port = 0
    configuration.seed = 1
    return configuration
}

if CommandLine.arguments.dropFirst().first == "--serve-sandbox" {
    // The sandbox alone, for the fetcher part run against a sandbox in another process: prints its base URL,
    // then serves until SIGTERM.
    let sandbox = CalypsoSandbox(configuration: sandboxConfiguration(), logger: logger)
    let group = ServiceGroup(services: [sandbox], gracefulShutdownSignals: [.sigterm], logger: logger)
    async let serving: Void = group.run()
    // Unbuffered, so the parent reads the URL while this process serves.
    FileHandle.standardOutput.write(Data((try await sandbox.baseURL() + "\n").utf8))
    try await serving
    exit(0)
}

let kafka = try EmbeddedKafka(logger: logger)

/// Topics under `prefix`, created on the embedded broker, so each part of the benchmark has its own.
func makeTopics(prefix: String) throws -> TopicNames {
    let topics = TopicNames(prefix: prefix)
    for name in TopicNames.Base.all.map(topics.name) { try kafka.createTopic(name, partitions: partitions) }
    for worker in TopicNames.Worker.all { try kafka.createTopic(topics.deadLetter(worker: worker), partitions: 1) }
    return topics
}

let admin = try KafkaAdmin(options: KafkaClientOptions(bootstrapServers: kafka.brokers), logger: logger)
var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: kafka.brokers)
producerConfiguration.messageTimeout = .seconds(30)
let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)

/// `BENCH_PROGRESS=1`: each measured phase prints its output rate every second on stderr.
let showsProgress = ProcessInfo.processInfo.environment["BENCH_PROGRESS"] != nil

func workerConfiguration(
    topics: TopicNames,
    guarantee: ProcessingGuarantee = .atLeastOnce
) -> PurserConfiguration {
    var configuration = PurserConfiguration(brokers: .servers(kafka.brokers))
    configuration.topicPrefix = topics.prefix
    configuration.processingGuarantee = guarantee
    configuration.maxInFlight = maxInFlight
    configuration.metricsPort = 0
    configuration.calypso.accountID = account
    configuration.kafkaProperties = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
    return configuration
}

func recordCount(_ topic: String) async throws -> Int {
    var total: Int64 = 0
    for partition in 0..<Int32(partitions) {
        let (low, high) = try await admin.watermarks(TopicPartition(topic, partition))
        total += high - low
    }
    return Int(total)
}

/// Records per second written to `topic` by `services`, from the first output to the `expected`-th (so
/// the group join is not counted).
func measureOutput(of services: [any Service], into topic: String, expected: Int) async throws -> Double {
    let group = ServiceGroup(services: services, gracefulShutdownSignals: [], logger: logger)
    return try await withThrowingTaskGroup(of: Double?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        var started: ContinuousClock.Instant?
        var firstCount = 0
        var lastProgress: (time: ContinuousClock.Instant, count: Int)?
        let deadline = ContinuousClock.now + .seconds(600)
        while ContinuousClock.now < deadline {
            let count = try await recordCount(topic)
            if showsProgress, count > 0 {
                let now = ContinuousClock.now
                if let last = lastProgress, now - last.time >= .seconds(1) {
                    let rate = Double(count - last.count) / ((now - last.time) / .seconds(1))
                    FileHandle.standardError.write(Data("  \(topic): \(count) records, \(Int(rate)) records/s over the last second\n".utf8))
                    lastProgress = (now, count)
                } else if lastProgress == nil {
                    lastProgress = (now, count)
                }
            }
            if started == nil, count > 0 {
                started = .now
                firstCount = count
            }
            if count >= expected, let started {
                // Timed from the first poll that saw output: with everything already there, there is no rate.
                precondition(count > firstCount, "all \(count) records of \(topic) came within one poll: raise the count")
                let seconds = (ContinuousClock.now - started) / .seconds(1)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return Double(count - firstCount) / seconds
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        fatalError("\(topic) did not reach \(expected) records within 10 minutes")
    }
}

func publish(_ records: [ProducerRecord]) async throws {
    for start in stride(from: 0, to: records.count, by: 5_000) {
        for outcome in try await producer.send(Array(records[start..<min(start + 5_000, records.count)])) {
            _ = try outcome.get()
        }
    }
}

// MARK: Fetcher: transaction/get after 50 ms

/// What the fetcher part needs of a sandbox, in this process or in another.
struct SandboxHandle: Sendable {
    var baseURL: String
    var simulateDeposit: @Sendable (SandboxDeposit) async throws -> SandboxDepositReceipt
    var setFaults: @Sendable (SandboxFaults) async throws -> Void
}

struct FetcherFigures: Sendable {
    var rate: Double
    var directCallRate: Double
    /// CPU time of this process and of the sandbox's process (when separate) while the fetcher ran.
    var benchmarkCPU: Double
    var sandboxCPU: Double?
}

/// Seconds of CPU (user and system) another process used so far, from `/proc/<pid>/stat`.
func cpuSeconds(ofProcess pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let end = stat.lastIndex(of: ")")
    else { return 0 }
    // Fields after the command name start at field 3; utime and stime are fields 14 and 15, in clock ticks.
    let fields = stat[stat.index(after: end)...].split(separator: " ")
    let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
    return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// The fetcher on `webhookCount` funds-received webhooks against `sandbox`, then the same calls without the
/// worker. `sandboxCPU` reads the sandbox process's CPU time when it runs apart.
func measureFetcher(
    sandbox: SandboxHandle,
    topics: TopicNames,
    sandboxCPU: (@Sendable () -> Double)?
) async throws -> FetcherFigures {
    var clientConfiguration = CalypsoClient.Configuration(
        baseURL: sandbox.baseURL,
        account: account,
        credentials: apiKeyPair
    )
    clientConfiguration.maximumConnections = maxInFlight
    let calypso = CalypsoClient(configuration: clientConfiguration, logger: logger)
    var customers: [String] = []
    for _ in 0..<customerCount {
        let customer = try await calypso.createCustomer(CalypsoCustomerDetails())
        _ = try await calypso.address(customerId: customer.id, currency: "ETH")
        customers.append(customer.id)
    }
    // No subscription: each deposit's steps are visible to transaction/get at once.
    var webhooks: [ProducerRecord] = []
    for index in 0..<webhookCount {
        let customer = customers[index % customerCount]
        let receipt = try await sandbox.simulateDeposit(
            SandboxDeposit(customerId: customer, currency: "ETH", amount: try DecimalAmount("\(index + 1).25"))
        )
        let payload: JSONValue = [
            "customerId": .string(customer), "customerBlocked": false, "purseId": .string(receipt.purseId),
            "address": .string(receipt.address), "currency": "ETH", "transactionId": .string(receipt.transactionId),
            "amount": .number("\(index + 1).25"), "transactionState": "CONFIRMED", "complianceState": "CHECKED",
            "translationToAccountCompleted": true, "createdDate": "2026-11-25T10:00:00.000",
        ]
        let webhook = WebhookReceived(
            eventId: String(index + 1),
            eventType: .fundsReceived,
            subscriptionId: "benchmark",
            createdDate: "2026-11-25T10:00:00.000",
            level: .info,
            service: "CUSTOMER_PURSE",
            receivedAt: .now,
            keyId: "benchmark",
            payload: payload
        )
        let event = CloudEvent(data: webhook, source: "purser-ingest", traceparent: .random())
        webhooks.append(ProducerRecord(topic: topics.webhooks, key: Array(customer.utf8), value: event.recordValue()))
    }
    try await publish(webhooks)
    var faults = SandboxFaults()
    faults.apiLatency = apiLatency
    try await sandbox.setFaults(faults)

    // The same calls without the worker: maxInFlight tasks calling transaction/get back to back.
    let transactionIds = webhooks.prefix(4_096).map { record in
        (try? CloudEvent<WebhookReceived>(recordValue: record.value ?? []))?.data.payload["transactionId"]?.stringValue ?? ""
    }
    let callsStarted = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        for lane in 0..<maxInFlight {
            tasks.addTask {
                for index in stride(from: lane, to: transactionIds.count, by: maxInFlight) {
                    _ = try await calypso.transaction(id: transactionIds[index])
                }
            }
        }
        try await tasks.waitForAll()
    }
    let directCallRate = Double(transactionIds.count) / ((ContinuousClock.now - callsStarted) / .seconds(1))

    let configuration = workerConfiguration(topics: topics)
    let pipeline = PipelineWorkers(configuration: configuration, calypso: calypso, logger: logger)
    let process = WorkerProcess(configuration: configuration, logger: logger)
    FileHandle.standardError.write(Data("fetcher: starting\n".utf8))
    let cpuBefore = (processCPUSeconds(), sandboxCPU?())
    let rate = try await measureOutput(
        of: try pipeline.services([.transactionFetcher], process: process),
        into: topics.transactions,
        expected: webhookCount
    )
    let benchmarkCPU = processCPUSeconds() - cpuBefore.0
    let sandboxSeconds = sandboxCPU.map { $0() - (cpuBefore.1 ?? 0) }
    try await calypso.shutdown()
    return FetcherFigures(
        rate: rate,
        directCallRate: directCallRate,
        benchmarkCPU: benchmarkCPU,
        sandboxCPU: sandboxSeconds
    )
}

/// Runs `body` against a sandbox in a child process of this executable (`--serve-sandbox`), so the sandbox
/// competes for the cores as another process would, not for this process's threads.
func withChildSandbox<T>(
    _ body: (SandboxHandle, _ cpu: @escaping @Sendable () -> Double) async throws -> T
) async throws -> T {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    child.arguments = ["--serve-sandbox"]
    let output = Pipe()
    child.standardOutput = output
    try child.run()
    defer {
        child.terminate()
        child.waitUntilExit()
    }
    var line: [UInt8] = []
    while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
        line.append(byte)
    }
    let control = SandboxControlClient(baseURL: String(decoding: line, as: UTF8.self))
    let pid = child.processIdentifier
    let handle = SandboxHandle(
        baseURL: control.baseURL,
        simulateDeposit: { try await control.simulateDeposit($0) },
        setFaults: { try await control.setFaults($0) }
    )
    return try await body(handle) { cpuSeconds(ofProcess: pid) }
}

let inProcess = try await CalypsoSandbox.withRunning(sandboxConfiguration(), logger: logger) { sandbox in
    let handle = SandboxHandle(
        baseURL: try await sandbox.baseURL(),
        simulateDeposit: { try sandbox.simulateDeposit($0) },
        setFaults: { try sandbox.setFaults($0) }
    )
    return try await measureFetcher(sandbox: handle, topics: makeTopics(prefix: "bench.fetch-in."), sandboxCPU: nil)
}
let childProcess = try await withChildSandbox { handle, cpu in
    try await measureFetcher(sandbox: handle, topics: makeTopics(prefix: "bench.fetch-apart."), sandboxCPU: cpu)
}
let bound = Double(maxInFlight) / (apiLatency / .seconds(1))

// MARK: Crediter against a plain consume of the same topic, in each processing guarantee

/// Records per second of a `KafkaConsumer` reading `topic` from the beginning, storing every offset, timed
/// from its first record.
func plainConsumeRate(of topic: String, count: Int) async throws -> Double {
    var configuration = KafkaConsumerConfiguration(bootstrapServers: kafka.brokers, groupID: "plain-consume-\(topic)")
    configuration.sessionTimeout = .seconds(6)
    configuration.heartbeatInterval = .milliseconds(500)
    let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
    try consumer.subscribe(topics: [topic])
    var consumed = 0
    var started: ContinuousClock.Instant?
    for try await record in consumer.records {
        if started == nil { started = .now }
        _ = try consumer.storeOffset(of: record)
        consumed += 1
        if consumed == count { break }
    }
    let rate = Double(consumed - 1) / ((ContinuousClock.now - started!) / .seconds(1))
    await consumer.shutdown()
    return rate
}

/// The crediter's rate, its process's CPU seconds (joining and leaving the group included), and the plain
/// consume's rate, on approvals of their own (so neither run sees the other's offsets or credits).
func crediterRates(_ guarantee: ProcessingGuarantee) async throws -> (crediter: Double, cpu: Double, consume: Double) {
    let topics = try makeTopics(prefix: "bench-\(guarantee).")
    try await publish(
        try (0..<approvalCount).map { try Approvals.record(index: $0, customers: customerCount, topic: topics.depositsApproved) }
    )
    let consumeRate = try await plainConsumeRate(of: topics.depositsApproved, count: approvalCount)
    let configuration = workerConfiguration(topics: topics, guarantee: guarantee)
    // On standard error, so a profiler can be attached to this phase alone.
    FileHandle.standardError.write(Data("crediter, \(guarantee): starting\n".utf8))
    let cpuBefore = processCPUSeconds()
    let crediterRate = try await measureOutput(
        of: try PipelineWorkers(configuration: configuration, calypso: nil, logger: logger)
            .services([.depositCrediter], process: WorkerProcess(configuration: configuration, logger: logger)),
        into: topics.depositsCredited,
        expected: approvalCount
    )
    return (crediterRate, processCPUSeconds() - cpuBefore, consumeRate)
}

let exactlyOnce = try await crediterRates(.exactlyOnce)
let atLeastOnce = try await crediterRates(.atLeastOnce)
await producer.shutdown()

func figure(_ value: Double) -> String { String(format: "%8.0f", value) }
print("WorkerBenchmark: embedded broker, \(partitions) partitions, WORKER_MAX_IN_FLIGHT=\(maxInFlight)")
for (placement, figures) in [("sandbox in this process", inProcess), ("sandbox in a child process", childProcess)] {
    print("fetcher, transaction/get after 50 ms (\(webhookCount) webhooks), \(placement):")
    print("  fetcher:                                          \(figure(figures.rate)) records/s")
    print("  bound in-flight ÷ latency:                        \(figure(bound)) records/s")
    print("  the same calls from \(maxInFlight) tasks, no worker:         \(figure(figures.directCallRate)) calls/s")
    print(String(format: "  ratio to the bound: %.2f (target ≥ 0.80, and ≥ 4000 records/s)", figures.rate / bound))
    let perThousand = 1000 / Double(webhookCount)
    var cpu = String(format: "  CPU per 1000 records: this process %.2f s", figures.benchmarkCPU * perThousand)
    if let sandboxCPU = figures.sandboxCPU { cpu += String(format: ", sandbox process %.2f s", sandboxCPU * perThousand) }
    print(cpu)
}
for (guarantee, rates) in [(ProcessingGuarantee.exactlyOnce, exactlyOnce), (.atLeastOnce, atLeastOnce)] {
    print("crediter, \(guarantee) (\(approvalCount) approvals):  \(figure(rates.crediter)) records/s")
    print("  plain consume of the same topic:                  \(figure(rates.consume)) records/s")
    print(String(format: "  ratio to the plain consume: %.2f (target ≥ 0.50)", rates.crediter / rates.consume))
    print(String(format: "  CPU per 1000 records: %.2f s", rates.cpu * 1000 / Double(approvalCount)))
}
