import Calypso
import CalypsoSandbox
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PurserJSON
import ServiceLifecycle
import Synchronization
import Testing

let merchantAccount = "0x00000000000000000000000000000000000000aa"
let merchantPair = CalypsoKeyPair(key: "c529e14832b34b74972365cf7bf02430", secret: "b823a6b9ea72408583cef9ec8d67fa52")

func sandboxConfiguration(seed: UInt64 = 7, timeScale: Double = 1) -> SandboxConfiguration {
    var configuration = SandboxConfiguration(account: merchantAccount, apiCredentials: merchantPair)
    configuration.port = 0
    configuration.seed = seed
    configuration.timeScale = timeScale
    return configuration
}

func makeClient(
    _ sandbox: CalypsoSandbox,
    credentials: CalypsoKeyPair = merchantPair,
    adjust: (inout CalypsoClient.Configuration) -> Void = { _ in }
) async throws -> CalypsoClient {
    var configuration = CalypsoClient.Configuration(
        baseURL: try await sandbox.baseURL(),
        account: merchantAccount,
        credentials: credentials
    )
    configuration.requestTimeout = .seconds(10)
    adjust(&configuration)
    return CalypsoClient(configuration: configuration)
}

/// Runs a sandbox and a client signed with the merchant pair for the duration of `body`.
func withSandbox<T>(
    _ configuration: SandboxConfiguration = sandboxConfiguration(),
    _ body: (CalypsoSandbox, CalypsoClient) async throws -> T
) async throws -> T {
    try await CalypsoSandbox.withRunning(configuration) { sandbox in
        let client = try await makeClient(sandbox)
        do {
            let result = try await body(sandbox, client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

/// Polls `condition` every 10 ms for at most `timeout`; the wait is bounded whatever happens.
func eventually(timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try condition()
}

/// A webhook endpoint on a free loopback port that records every delivery and answers with the
/// status its script picks for the n-th request (0-based).
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var key: String?
        var sign: String?
        var body: [UInt8]
        var receivedAt: ContinuousClock.Instant

        var json: JSONValue { get throws { try JSONValue(parsing: body) } }
        var eventId: String { (try? json["id"]?.numberLiteral) ?? "" }
        var eventType: String { (try? json["eventType"]?.stringValue) ?? "" }
    }

    private let deliveries = Mutex<[Delivery]>([])
    private let script: Mutex<@Sendable (Int) -> HTTPResponse.Status>

    init(script: @escaping @Sendable (Int) -> HTTPResponse.Status = { _ in .ok }) {
        self.script = Mutex(script)
    }

    var received: [Delivery] { deliveries.withLock { $0 } }

    func answer(with script: @escaping @Sendable (Int) -> HTTPResponse.Status) {
        self.script.withLock { $0 = script }
    }

    /// Runs the receiver for the duration of `body`, passing its URL.
    func run<T>(_ body: (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/hooks/calypso") { [self] request, _ -> Response in
            var request = request
            let bytes = try await request.collectBody(upTo: 1 << 20)
            let script = script.withLock { $0 }
            let status = deliveries.withLock { list in
                list.append(
                    Delivery(
                        key: request.headers[HTTPField.Name("Key")!],
                        sign: request.headers[HTTPField.Name("Sign")!],
                        body: Array(bytes.readableBytesView),
                        receivedAt: .now
                    )
                )
                return script(list.count - 1)
            }
            return Response(status: status)
        }
        let port = BoundPort()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.value.withLock { $0 = channel.localAddress?.port } },
            logger: Logger(label: "test.receiver")
        )
        return try await withRunningService(app, logger: Logger(label: "test.receiver")) {
            guard try await eventually({ port.value.withLock { $0 } != nil }) else { throw ReceiverDidNotStart() }
        } _: {
            try await body("http://127.0.0.1:\(port.value.withLock { $0 } ?? 0)/hooks/calypso")
        }
    }

    struct ReceiverDidNotStart: Error {}

    private final class BoundPort: Sendable {
        let value = Mutex<Int?>(nil)
    }
}
