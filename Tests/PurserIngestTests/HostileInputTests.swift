import AsyncHTTPClient
import Calypso
import Foundation
import Hummingbird
import PurserIngest
import PurserJSON
import PurserKafka
import PurserSchema
import PurserTesting
import Testing

/// Hostile deliveries against a real ingest on the embedded broker: random and mutated bodies
/// (bit flips, truncation, huge numbers, deep nesting, invalid UTF-8, duplicate keys, random bytes),
/// random, missing and duplicated `Key`/`Sign` headers, odd content types and sizes around the body
/// limit.
///
/// Each request's status must be exactly what the contract says, checked in the contract's order:
/// 415 (not JSON), 413 (over the limit), 401 (first `Key` unknown or missing, first `Sign` missing or
/// not the body's signature), then 400 or 200. A validly signed mutant may be 200 or 400 (whether it
/// is still an envelope is up to the parser), unless the mutation is known to keep it valid (200) or
/// to break it (400). Afterwards the topic holds exactly one record per 200, each with the webhook's
/// `data` as its payload, byte for byte: nothing is published without a valid signature.
///
/// The run is seeded: a failure names its seed, and `PURSER_FUZZ_SEED=<seed>` replays it.
/// `PURSER_FUZZ_ITERATIONS` sets the number of requests (default 200, a few seconds).
@Suite("Hostile input at ingest", .serialized, .timeLimit(.minutes(5)))
struct HostileInputTests {
    static let bodyLimit = 16 * 1024

    @Test("random and mutated deliveries get exactly their status, and only validly signed webhooks are published")
    func hostileDeliveries() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["PURSER_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        let iterations = environment["PURSER_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 200
        let harness = try await IngestHarness(spoolDirectory: nil) { $0.maxBodyBytes = Self.bodyLimit }
        do {
            try await Self.deliver(iterations, seed: seed, to: harness)
        } catch {
            Issue.record(error, "seed \(seed)")
        }
        try await harness.stop()
    }

    /// Sends `iterations` seeded deliveries, then checks the topic against the 200s.
    static func deliver(_ iterations: Int, seed: UInt64, to harness: IngestHarness) async throws {
        var random = SeededGenerator(seed: seed)

        var published: [[UInt8]] = []
        for index in 0..<iterations {
            let delivery = HostileDelivery.random(index: index, using: &random)
            let context = "seed \(seed), request \(index): \(delivery.summary)"
            let status = try await delivery.send(to: harness.port)
            #expect(delivery.expected.contains(status), "\(context): got \(status), expected \(delivery.expected.sorted())")
            if status == 200 {
                published.append(try #require(delivery.payload, "\(context): 200 for a body without a data object"))
            }
        }

        // Exactly one record per 200, each readable downstream and carrying a 200's `data` unchanged.
        let records = try await harness.readRecords(published.count, timeout: .seconds(60))
        #expect(try await harness.recordCount() == published.count, "seed \(seed)")
        var unmatched = published
        for record in records {
            let value = record.value ?? []
            #expect(throws: Never.self, "seed \(seed): a published record readers cannot parse") {
                _ = try CloudEventEnvelope(recordValue: value)
            }
            let match = unmatched.firstIndex { value.firstRange(of: Array(#""payload":"#.utf8) + $0) != nil }
            #expect(match != nil, "seed \(seed): a record whose payload is no 200's data")
            if let match { unmatched.remove(at: match) }
        }
    }
}

/// One hostile request and what the contract allows as its answer.
struct HostileDelivery {
    var summary: String
    var body: [UInt8]
    var headers: [(name: String, value: String)]
    /// Sent chunked, without a `Content-Length`, so the size check happens while reading.
    var isStreamed: Bool
    var expected: Set<Int>
    /// The `data` object the record must carry if the answer is 200 (as the JSON module writes it,
    /// which is the received text for compact input).
    var payload: [UInt8]?

    static let keyPairs = IngestHarness.keyPairs
    static let unknownKey = "ffffffffffffffffffffffffffffffff"

    func send(to port: Int) async throws -> Int {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/calypso")
        request.method = .POST
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        if isStreamed {
            let chunks = AsyncStream<ByteBuffer> { continuation in
                for start in stride(from: 0, to: body.count, by: 4096) {
                    continuation.yield(ByteBuffer(bytes: body[start..<min(start + 4096, body.count)]))
                }
                continuation.finish()
            }
            request.body = .stream(chunks, length: .unknown)
        } else {
            request.body = .bytes(body)
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    // MARK: - Generation

    static func random(index: Int, using random: inout SeededGenerator) -> HostileDelivery {
        var (summary, body, envelope) = randomBody(index: index, using: &random)
        var isStreamed = false
        if random.chance(0.1) {
            // Sizes around the limit, of an otherwise valid webhook.
            let target = HostileInputTests.bodyLimit + Int.random(in: -2...2, using: &random)
            (body, envelope) = padded(index: index, to: target)
            isStreamed = random.chance(0.5)
            summary = "\(body.count)-byte webhook\(isStreamed ? ", chunked" : "")"
        }
        let (headerSummary, headers, isSigned) = randomHeaders(for: body, using: &random)
        let contentType = randomContentType(using: &random)

        var allHeaders = headers
        if let contentType { allHeaders.insert(("Content-Type", contentType), at: 0) }
        let expected: Set<Int> =
            if !isJSON(contentType) {
                [415]
            } else if body.count > HostileInputTests.bodyLimit {
                [413]
            } else if !isSigned {
                [401]
            } else {
                envelope.statuses
            }
        return HostileDelivery(
            summary: "\(summary); \(headerSummary); content type \(contentType ?? "none")",
            body: body,
            headers: allHeaders,
            isStreamed: isStreamed,
            expected: expected,
            payload: envelope.payload
        )
    }

    /// What a signed body should get: a valid envelope 200, a broken one 400, an unknown one either.
    struct Envelope {
        var statuses: Set<Int>
        var payload: [UInt8]?

        static func valid(data: String) -> Envelope { Envelope(statuses: [200], payload: Array(data.utf8)) }
        static let invalid = Envelope(statuses: [400], payload: nil)

        /// After a random mutation: 200 only if the result still parses as an envelope with a data object.
        static func mutated(_ body: [UInt8]) -> Envelope {
            guard let data = (try? JSONValue(parsing: body))?["data"], data.objectValue != nil else {
                return Envelope(statuses: [200, 400], payload: nil)
            }
            return Envelope(statuses: [200, 400], payload: data.serialized())
        }
    }

    static func randomBody(index: Int, using random: inout SeededGenerator) -> (String, [UInt8], Envelope) {
        let id = 1_000_000 + index
        let customer = "customer-\(Int.random(in: 0..<8, using: &random))"
        let valid = Webhooks.body(id: id, customerId: customer)
        switch Int.random(in: 0..<10, using: &random) {
        case 0:
            return ("valid webhook", valid, .valid(data: Webhooks.data(customerId: customer)))
        case 1:
            var body = valid
            let flips = Int.random(in: 1...4, using: &random)
            for _ in 0..<flips {
                let bit = Int.random(in: 0..<(body.count * 8), using: &random)
                body[bit / 8] ^= 1 << (bit % 8)
            }
            return ("\(flips) bit flip(s)", body, .mutated(body))
        case 2:
            let body = Array(valid.prefix(Int.random(in: 0..<valid.count, using: &random)))
            return ("truncated to \(body.count) bytes", body, .invalid)
        case 3:
            // Digits no Double can hold: they must reach Kafka exactly as sent.
            let digits = (0..<Int.random(in: 20...600, using: &random)).map { _ in String(Int.random(in: 0...9, using: &random)) }
            let amount = "9" + digits.joined() + "." + digits.reversed().joined() + "e-\(Int.random(in: 0...400, using: &random))"
            let data = Webhooks.data(customerId: customer, amount: amount)
            return ("huge amount", envelopeBody(id: id, data: data), .valid(data: data))
        case 4:
            // In the published event the arrays sit under the event object, its `data` and `payload`.
            let depth = [1, 100, JSONValue.maximumDepth - 3, JSONValue.maximumDepth - 2, JSONValue.maximumDepth, 5000]
                .randomElement(using: &random)!
            let data = #"{"customerId":"\#(customer)","deep":\#(String(repeating: "[", count: depth))\#(String(repeating: "]", count: depth))}"#
            let fits = depth + 3 <= JSONValue.maximumDepth
            return ("\(depth) nested arrays", envelopeBody(id: id, data: data), fits ? .valid(data: data) : .invalid)
        case 5:
            let invalid: [[UInt8]] = [[0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]]
            let bytes = invalid.randomElement(using: &random)!
            let prefix = Array(#"{"customerId":"\#(customer)","note":"before "#.utf8)
            let data = prefix + bytes + Array(#" after"}"#.utf8)
            let body = Array(#"{"requestId":"\#(Webhooks.subscriptionId)","id":\#(id),"createdDate":"2025-10-30T14:08:39.96068","eventType":"CUSTOMER_PURSE_MEM_POOL_FOUND","data":"#.utf8) + data + [UInt8(ascii: "}")]
            return ("invalid UTF-8 \(bytes)", body, .invalid)
        case 6:
            if random.chance(0.5) {
                let data = #"{"customerId":"\#(customer)","customerId":"someone-else"}"#
                return ("duplicate key in data", envelopeBody(id: id, data: data), .invalid)
            }
            let body = Array(#"{"requestId":"\#(Webhooks.subscriptionId)","id":\#(id),"id":\#(id + 1),"createdDate":"2025-10-30T14:08:39.96068","eventType":"CUSTOMER_PURSE_MEM_POOL_FOUND","data":{}}"#.utf8)
            return ("duplicate id in envelope", body, .invalid)
        case 7:
            let body = (0..<Int.random(in: 0...2048, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            return ("\(body.count) random bytes", body, .mutated(body))
        case 8:
            let fields = ["\"id\":\(id),", #""eventType":"CUSTOMER_PURSE_MEM_POOL_FOUND","#, #""requestId":"r","#, #""createdDate":"c","#]
            let missing = Int.random(in: 0..<fields.count, using: &random)
            let body = Array(("{" + fields.enumerated().filter { $0.offset != missing }.map(\.element).joined() + #""data":{}}"#).utf8)
            return ("envelope without \(fields[missing].prefix(12))", body, .invalid)
        default:
            let shapes = ["", "null", "[]", "\"text\"", "12", "{}", #"{"id":1,"data":[]}"#, "{\"data\":{}}"]
            let body = Array(shapes.randomElement(using: &random)!.utf8)
            return ("body '\(String(decoding: body, as: UTF8.self))'", body, .invalid)
        }
    }

    /// A valid envelope around `data` (text written exactly as it must come out).
    static func envelopeBody(id: Int, data: String) -> [UInt8] {
        Array(
            #"{"requestId":"\#(Webhooks.subscriptionId)","id":\#(id),"createdDate":"2025-10-30T14:08:39.96068","level":"INFO","service":"CUSTOMER_PURSE","eventType":"CUSTOMER_PURSE_MEM_POOL_FOUND","data":\#(data)}"#
                .utf8
        )
    }

    /// A valid webhook of exactly `size` bytes, padded inside its data.
    static func padded(index: Int, to size: Int) -> ([UInt8], Envelope) {
        let bare = envelopeBody(id: 2_000_000 + index, data: #"{"customerId":"padded","note":""}"#)
        let data = #"{"customerId":"padded","note":"\#(String(repeating: "x", count: size - bare.count))"}"#
        let body = envelopeBody(id: 2_000_000 + index, data: data)
        precondition(body.count == size)
        return (body, .valid(data: data))
    }

    /// `Key` and `Sign` headers, and whether the first of each is a valid signature of `body`.
    static func randomHeaders(
        for body: [UInt8],
        using random: inout SeededGenerator
    ) -> (String, [(name: String, value: String)], Bool) {
        let pair = keyPairs.randomElement(using: &random)!
        let other = keyPairs.first { $0 != pair }!
        let sign = CalypsoSignature.sign(body, secret: pair.secret)
        let randomHex = (0..<128).map { _ in String(Int.random(in: 0..<16, using: &random), radix: 16) }.joined()
        switch Int.random(in: 0..<12, using: &random) {
        case 0, 1, 2: return ("signed", [("Key", pair.key), ("Sign", sign)], true)
        case 3: return ("signed, upper-case hex", [("Key", pair.key), ("Sign", sign.uppercased())], true)
        case 4: return ("no Key", [("Sign", sign)], false)
        case 5: return ("unknown Key", [("Key", unknownKey), ("Sign", sign)], false)
        case 6: return ("no Sign", [("Key", pair.key)], false)
        case 7: return ("random Sign", [("Key", pair.key), ("Sign", randomHex)], false)
        case 8: return ("signed with the other key's secret", [("Key", other.key), ("Sign", sign)], false)
        case 9:
            let cut = String(sign.dropLast(Int.random(in: 1...127, using: &random)))
            return ("truncated Sign", [("Key", pair.key), ("Sign", cut)], false)
        case 10:
            // Duplicated headers: the first of each name counts.
            let firstIsValid = random.chance(0.5)
            let signs = firstIsValid ? [sign, randomHex] : [randomHex, sign]
            return (
                "two Sign headers, \(firstIsValid ? "first" : "second") valid",
                [("Key", pair.key), ("Sign", signs[0]), ("Sign", signs[1])],
                firstIsValid
            )
        default:
            let firstIsValid = random.chance(0.5)
            let keys = firstIsValid ? [pair.key, unknownKey] : [unknownKey, pair.key]
            return (
                "two Key headers, \(firstIsValid ? "first" : "second") known",
                [("Key", keys[0]), ("Key", keys[1]), ("Sign", sign)],
                firstIsValid
            )
        }
    }

    static func randomContentType(using random: inout SeededGenerator) -> String? {
        if random.chance(0.85) { return "application/json" }
        return ["application/json; charset=utf-8", "Application/JSON", "text/plain", "application/jsonx", "", nil]
            .randomElement(using: &random)!
    }

    /// The contract's notion of a JSON content type (parameters allowed, case-insensitive).
    static func isJSON(_ contentType: String?) -> Bool {
        guard let mediaType = contentType?.split(separator: ";").first else { return false }
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }
}
