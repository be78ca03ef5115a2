import AsyncHTTPClient
import Calypso
import Foundation
import PurserJSON
import PurserKafka
import PurserSchema
import PurserTesting
import Synchronization
import Testing

/// The built `purser-ingest` as a child process, killed without warning while it spools webhooks.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct IngestProcessTests {
    static let keyPair = CalypsoKeyPair(key: "5f0c1e2d3b4a59687766554433221100", secret: "0a1b2c3d4e5f60718293a4b5c6d7e8f9")
    static let executableBuilt = ChildProcess.executable("purser-ingest") != nil

    /// One request's fate: its status, or `nil` when the connection broke before an answer.
    struct Delivery: Sendable {
        var id: Int
        var status: Int?
    }

    final class Progress: Sendable {
        let acknowledged = Atomic<Int>(0)
        let stopped = Atomic<Bool>(false)
    }

    @Test(
        "broker unreachable, SIGKILL mid-stream, restart on the same spool: every webhook answered 200 is in Kafka, intact",
        .enabled(if: executableBuilt, "purser-ingest is not built: run `swift build` (make test does)")
    )
    func killedWhileSpooling() async throws {
        let executable = try #require(ChildProcess.executable("purser-ingest"))
        let topics = TopicNames(prefix: KafkaTesting.uniqueName("k") + ".")
        let partitions = 6
        let kafka = try KafkaTesting.startBroker(topics: [topics.webhooks: partitions])
        try kafka.setBrokerDown()
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent(KafkaTesting.uniqueName("ingest-spool"))
        let properties = FileManager.default.temporaryDirectory.appendingPathComponent(
            KafkaTesting.uniqueName("kafka") + ".properties"
        )
        try "reconnect.backoff.max.ms=200\n".write(to: properties, atomically: true, encoding: .utf8)
        defer {
            try? FileManager.default.removeItem(at: spool)
            try? FileManager.default.removeItem(at: properties)
        }
        let environment = [
            "KAFKA_BROKERS": kafka.bootstrapServers, "TOPIC_PREFIX": topics.prefix, "KAFKA_PROPERTIES_FILE": properties.path,
            "CALYPSO_WEBHOOK_KEY": Self.keyPair.key, "CALYPSO_WEBHOOK_SECRET": Self.keyPair.secret,
            "INGEST_PORT": "0", "INGEST_SPOOL_DIR": spool.path, "INGEST_PUBLISH_TIMEOUT": "300ms", "LOG_LEVEL": "info",
        ]

        // 16 senders post unique webhooks to the first process, which can only spool them.
        let first = try ChildProcess(executable, environment: environment, includingStandardError: true)
        defer { first.killIfRunning() }
        let firstPort = try await Self.port(of: first)
        let progress = Progress()
        let senders = 16
        let sending = Task {
            await withTaskGroup(of: [Delivery].self) { group in
                for sender in 0..<senders {
                    group.addTask {
                        var deliveries: [Delivery] = []
                        var id = sender
                        while !progress.stopped.load(ordering: .relaxed) {
                            let status = try? await Self.post(Self.body(id: id), port: firstPort)
                            if status == 200 { progress.acknowledged.add(1, ordering: .relaxed) }
                            deliveries.append(Delivery(id: id, status: status))
                            id += senders
                        }
                        return deliveries
                    }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
        }
        // Killed while the senders keep posting, so requests are cut off at every stage.
        try await KafkaTesting.eventually(timeout: .seconds(30)) { progress.acknowledged.load(ordering: .relaxed) >= 400 }
        first.signal(SIGKILL)
        progress.stopped.store(true, ordering: .relaxed)
        let deliveries = await sending.value
        #expect(try await first.waitForExit() == SIGKILL)

        let acknowledged = Set(deliveries.filter { $0.status == 200 }.map(\.id))
        let cutOff = Set(deliveries.filter { $0.status == nil }.map(\.id))
        #expect(
            deliveries.allSatisfy { $0.status == nil || $0.status == 200 },
            "a signed webhook is answered 200 while the spool has room"
        )

        // The broker is back; the dead process published nothing, so what arrives comes from the spool.
        try kafka.setBrokerUp()
        let admin = try KafkaAdmin(options: KafkaClientOptions(bootstrapServers: kafka.brokers), logger: KafkaTesting.logger)
        let webhookPartitions = (0..<Int32(partitions)).map { TopicPartition(topics.webhooks, $0) }
        for partition in webhookPartitions {
            #expect(try await admin.watermarks(partition).high == 0)
        }
        let second = try ChildProcess(executable, environment: environment, includingStandardError: true)
        defer { second.killIfRunning() }
        let secondPort = try await Self.port(of: second)
        try await KafkaTesting.withTimeout(.seconds(30)) {
            while try await Self.metric("purser_ingest_spool_records", port: secondPort) != 0 {
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        var published: [String: [UInt8]] = [:]
        for partition in webhookPartitions {
            for record in try await admin.readPartition(partition) {
                let value = try #require(record.value)
                let event = try CloudEvent<WebhookReceived>(recordValue: value)
                let id = try #require(Int(event.data.eventId))
                #expect(event.id == EventID.deterministic(type: .webhookReceived, key: event.data.eventId))
                #expect(record.key == Array(Self.customer(id: id).utf8))
                #expect(event.data.keyId == Self.keyPair.key)
                let payload = try #require(try JSONValue(parsing: value)["data"]?["payload"])
                #expect(payload.serialized() == Array(Self.data(id: id).utf8), "webhook \(id) arrived intact")
                // A record published twice (the drainer retrying after an unanswered publish) is the same record.
                #expect(published.updateValue(value, forKey: event.data.eventId).map { $0 == value } ?? true)
            }
        }
        let publishedIds = Set(published.keys.compactMap { Int($0) })
        #expect(acknowledged.subtracting(publishedIds).isEmpty, "every webhook answered 200 is in Kafka")
        // A request cut off by the kill was never answered 200, so Calypso sends it again; it is in Kafka
        // only when it had reached the spool before the kill, and then under the same event id.
        #expect(publishedIds.subtracting(acknowledged).isSubset(of: cutOff), "nothing else is published")

        second.signal(SIGTERM)
        #expect(try await second.waitForExit() == 0, "SIGTERM drains and exits 0")
    }

    static func customer(id: Int) -> String { "customer-\(id % 8)" }

    /// The webhook's `data`, as it must reappear in the event's `payload`: exact digits, unknown members.
    static func data(id: Int) -> String {
        #"{"customerId":"\#(customer(id: id))","transactionId":"tx-\#(id)","currency":"USDT_BSC","amount":\#(id).123456789012345678,"futureField":[1,2.50,null]}"#
    }

    static func body(id: Int) -> [UInt8] {
        Array(
            #"{"requestId":"a381f753-3079-4214-9720-b416fc35ca10","id":\#(id),"createdDate":"2025-10-30T14:08:39.96068","level":"INFO","service":"CUSTOMER_PURSE","eventType":"CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE","data":\#(data(id: id))}"#
                .utf8
        )
    }

    static func post(_ body: [UInt8], port: Int) async throws -> Int {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/calypso")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Key", value: keyPair.key)
        request.headers.add(name: "Sign", value: CalypsoSignature.sign(body, secret: keyPair.secret))
        request.body = .bytes(body)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 16)
        return Int(response.status.code)
    }

    /// A sample's value from the process's `/metrics`.
    static func metric(_ sample: String, port: Int) async throws -> Double? {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"),
            timeout: .seconds(10)
        )
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return text.split(separator: "\n").first { $0.hasPrefix(sample + " ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// The port the process's HTTP server bound (it logs it once listening).
    static func port(of process: ChildProcess) async throws -> Int {
        let line = try await process.line(containing: "Server started and listening on")
        return try #require(line.split(separator: ":").last.flatMap { Int($0) })
    }
}
