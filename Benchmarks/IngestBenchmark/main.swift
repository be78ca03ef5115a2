// Ingest throughput and latency: signed 1 KiB webhooks over keep-alive HTTP on loopback, each
// verified and acknowledged by the embedded broker, against a plain Hummingbird route that answers
// 200 to the same requests, both measured in this run.
import AsyncHTTPClient
import Calypso
import Foundation
import Hummingbird
import Logging
import PurserIngest
import PurserKafka
import PurserTesting
import ServiceLifecycle
import Synchronization

let concurrency = Int(ProcessInfo.processInfo.environment["BENCH_CLIENTS"] ?? "") ?? 32
let measureSeconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "") ?? 5
let roundCount = max(Int(ProcessInfo.processInfo.environment["BENCH_ROUNDS"] ?? "") ?? 5, 1)
let keyPair = CalypsoKeyPair(key: "c529e14832b34b74972365cf7bf02430", secret: "b823a6b9ea72408583cef9ec8d67fa52")
let logger = {
    var logger = Logger(label: "ingest-benchmark")
    logger.logLevel = .error
    return logger
}()

/// A realistic signed delivery of about 1 KiB: one of 64 customers, a unique event id.
struct SignedWebhook: Sendable {
    var body: [UInt8]
    var sign: String

    init(id: Int) {
        let customer = String(format: "3f1c7d2e-8a4b-4c6d-9e0f-%012d", id % 64)
        let json =
            #"{"requestId":"a381f753-3079-4214-9720-b416fc35ca10","id":\#(id),"createdDate":"2025-10-30T14:08:39.96068","level":"INFO","service":"CUSTOMER_PURSE","eventType":"CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE","data":{"customerId":"\#(customer)","customerBlocked":false,"purseId":"9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d","address":"0x52908400098527886e0f7030069857d2e4169ee7","currency":"USDT_BSC","transactionId":"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0","transactionHash":"0x8f1b5a3e9c2d4f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a","addressFrom":"0x1111111254eeb25477b68fb85ed929f73a960582","amount":1250.123456789012345678,"transactionState":"CONFIRMED","complianceState":"CHECKED","translationToAccountCompleted":false,"createdDate":"2025-10-30T14:08:39.12345""#
        let padding = String(repeating: "x", count: max(1024 - json.utf8.count - 12, 0))
        body = Array((json + #","note":"\#(padding)"}}"#).utf8)
        sign = CalypsoSignature.sign(body, secret: keyPair.secret)
    }
}

struct Measurement {
    var requests: Int
    var seconds: Double
    var latencies: [Duration]
    var failures: Int
    /// CPU of the whole process (clients and servers, the broker) per request answered.
    var cpuMicrosecondsPerRequest: Double = .nan

    var perSecond: Double { Double(requests) / seconds }

    func percentile(_ fraction: Double) -> Double {
        guard !latencies.isEmpty else { return .nan }
        let sorted = latencies.sorted()
        let duration = sorted[min(Int(Double(sorted.count) * fraction), sorted.count - 1)]
        return Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}

let webhooks = (0..<20_000).map(SignedWebhook.init)
let nextWebhook = Atomic<Int>(0)

func request(port: Int) -> HTTPClientRequest {
    let webhook = webhooks[nextWebhook.add(1, ordering: .relaxed).newValue % webhooks.count]
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/calypso")
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    request.headers.add(name: "Key", value: keyPair.key)
    request.headers.add(name: "Sign", value: webhook.sign)
    request.body = .bytes(webhook.body)
    return request
}

/// The first failure seen, printed with the figures so a broken run is not mistaken for a slow one.
let firstFailure = Mutex<String?>(nil)

func send(_ client: HTTPClient, port: Int) async -> Bool {
    do {
        let response = try await client.execute(request(port: port), timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 16)
        if response.status == .ok { return true }
        firstFailure.withLock { $0 = $0 ?? "HTTP \(response.status.code)" }
    } catch {
        firstFailure.withLock { $0 = $0 ?? "\(error)" }
    }
    return false
}

/// Closed loop: `concurrency` clients, each sending its next request when the previous answered.
func saturate(_ client: HTTPClient, port: Int, seconds: Double) async -> Measurement {
    let start = ContinuousClock.now
    let startCPU = processCPUSeconds()
    let end = start + .milliseconds(Int(seconds * 1000))
    let results = await withTaskGroup(of: ([Duration], Int).self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var latencies: [Duration] = []
                var failures = 0
                while ContinuousClock.now < end {
                    let sent = ContinuousClock.now
                    if await send(client, port: port) {
                        latencies.append(ContinuousClock.now - sent)
                    } else {
                        failures += 1
                    }
                }
                return (latencies, failures)
            }
        }
        return await group.reduce(into: ([Duration](), 0)) {
            $0.0 += $1.0
            $0.1 += $1.1
        }
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let cpu = processCPUSeconds() - startCPU
    return Measurement(
        requests: results.0.count,
        seconds: seconds,
        latencies: results.0,
        failures: results.1,
        cpuMicrosecondsPerRequest: cpu * 1e6 / Double(max(results.0.count, 1))
    )
}

/// Open loop at a fixed rate: latency counts from when a request was due, so a slow server cannot
/// hide its queueing by slowing the client down.
func atRate(_ client: HTTPClient, port: Int, perSecond rate: Double, seconds: Double) async -> Measurement {
    let start = ContinuousClock.now
    let total = Int(rate * seconds)
    let interval = Duration.nanoseconds(Int64(1e9 / rate))
    let results = await withTaskGroup(of: Duration?.self) { group in
        for index in 0..<total {
            let due = start + interval * index
            try? await Task.sleep(until: due, clock: .continuous)
            group.addTask { await send(client, port: port) ? ContinuousClock.now - due : nil }
        }
        return await group.reduce(into: [Duration?]()) { $0.append($1) }
    }
    let latencies = results.compactMap { $0 }
    return Measurement(
        requests: latencies.count,
        seconds: seconds,
        latencies: latencies,
        failures: results.count - latencies.count
    )
}

func report(_ name: String, _ measurement: Measurement) {
    if let failure = firstFailure.withLock({ $0.take() }) { print("first failure: \(failure)") }
    print(
        String(
            format: "%@: %.0f webhooks/s, p50 %.2f ms, p99 %.2f ms (%d requests, %d failed)",
            name,
            measurement.perSecond,
            measurement.percentile(0.5),
            measurement.percentile(0.99),
            measurement.requests,
            measurement.failures
        )
    )
}

/// Runs `services` in a group while `body` runs, then shuts them down.
func withServices<T: Sendable>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
    let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
    let running = Task { try await group.run() }
    let result = try await body()
    await group.triggerGracefulShutdown()
    try await running.value
    return result
}

/// A stream of bound ports, and the `onServerRunning` callback that feeds it.
func portStream() -> (AsyncStream<Int>, @Sendable (Int) async -> Void) {
    let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
    return (stream, { continuation.yield($0) })
}

func firstPort(_ stream: AsyncStream<Int>) async -> Int {
    var iterator = stream.makeAsyncIterator()
    return await iterator.next() ?? 0
}

let spoolDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-bench-\(UUID().uuidString)")
    .path
let topic = "calypso.webhooks.v1"
let kafka = try KafkaTesting.startBroker(topics: [topic: 6])
var producerConfiguration = IngestService.producerConfiguration(brokers: kafka.brokers, publishTimeout: .seconds(2))
if let linger = ProcessInfo.processInfo.environment["BENCH_LINGER_MS"].flatMap(Int.init) {
    producerConfiguration.linger = .milliseconds(linger)
}
let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
var configuration = IngestConfiguration(webhookKeyPairs: [keyPair])
configuration.host = "127.0.0.1"
configuration.port = 0
configuration.spoolDirectory = spoolDirectory
let (ingestPorts, onIngestRunning) = portStream()
let ingest = try IngestService(
    configuration: configuration,
    topic: topic,
    producer: producer,
    logger: logger,
    onServerRunning: onIngestRunning
)

let router = Router()
router.post("/webhooks/calypso") { request, _ -> Response in
    _ = try await request.body.collect(upTo: 256 * 1024)
    return Response(status: .ok)
}
let (baselinePorts, onBaselineRunning) = portStream()
let baseline = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: 0)),
    onServerRunning: { await onBaselineRunning($0.localAddress?.port ?? 0) },
    logger: logger
)

var clientConfiguration = HTTPClient.Configuration()
clientConfiguration.connectionPool = .init(
    idleTimeout: .seconds(60),
    concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency
)
let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)

print(
    "ingest benchmark: \(concurrency) keep-alive clients, \(webhooks[0].body.count)-byte signed webhooks, "
        + "\(roundCount) rounds of \(measureSeconds) s per side"
)
try await withServices([producer, ingest, baseline]) {
    let ingestPort = await firstPort(ingestPorts)
    let baselinePort = await firstPort(baselinePorts)
    _ = await saturate(client, port: baselinePort, seconds: 1)  // warm-up
    _ = await saturate(client, port: ingestPort, seconds: 1)
    // Side by side, alternating which goes first, so a load change on the machine hits both sides of a
    // round; the ratio is the median of the rounds' ratios.
    var rounds: [(plain: Measurement, full: Measurement)] = []
    for round in 0..<roundCount {
        if round.isMultiple(of: 2) {
            let plain = await saturate(client, port: baselinePort, seconds: measureSeconds)
            rounds.append((plain, await saturate(client, port: ingestPort, seconds: measureSeconds)))
        } else {
            let full = await saturate(client, port: ingestPort, seconds: measureSeconds)
            rounds.append((await saturate(client, port: baselinePort, seconds: measureSeconds), full))
        }
    }
    let ratios = rounds.map { $0.full.perSecond / $0.plain.perSecond }
    for (index, round) in rounds.enumerated() {
        print(
            String(
                format: "round %d: baseline %.0f/s (%.0f µs CPU/request), ingest %.0f/s (%.0f µs CPU/request), ratio %.2f",
                index + 1,
                round.plain.perSecond,
                round.plain.cpuMicrosecondsPerRequest,
                round.full.perSecond,
                round.full.cpuMicrosecondsPerRequest,
                ratios[index]
            )
        )
    }
    let plain = rounds.sorted { $0.plain.perSecond < $1.plain.perSecond }[rounds.count / 2].plain
    let full = rounds.sorted { $0.full.perSecond < $1.full.perSecond }[rounds.count / 2].full
    report("baseline (plain 200 route), saturated, median round", plain)
    report("ingest (verify + Kafka ack), saturated, median round", full)
    print(String(format: "ratio ingest/baseline: %.2f, median of the rounds (target >= 0.5)", median(ratios)))
    print(
        String(
            format: "CPU per request (whole process, median): baseline %.0f µs, ingest %.0f µs",
            median(rounds.map(\.plain.cpuMicrosecondsPerRequest)),
            median(rounds.map(\.full.cpuMicrosecondsPerRequest))
        )
    )
    guard full.perSecond > 0 else { return }
    let half = await atRate(client, port: ingestPort, perSecond: full.perSecond / 2, seconds: measureSeconds)
    report(String(format: "ingest at half saturation (%.0f/s)", full.perSecond / 2), half)
    print(String(format: "ingest p99 at half saturation: %.2f ms (target <= 10 ms)", half.percentile(0.99)))
}
try await client.shutdown().get()
try? FileManager.default.removeItem(atPath: spoolDirectory)
