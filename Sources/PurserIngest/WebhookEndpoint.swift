import Calypso
import Foundation
import Hummingbird
import Logging
import PurserSchema

/// `POST /webhooks/calypso`: checks, verifies and hands a webhook to the ``WebhookIngestor``,
/// answering 200 only once it is acknowledged by Kafka or durable in the spool.
///
/// Checks in order: content type (415), size while reading (413), `Key` and `Sign` (401),
/// envelope (400). Nothing is published or spooled for a refused request, and neither the body nor
/// a secret is ever logged: only the event id and type when known, the size and the outcome.
struct WebhookEndpoint: Sendable {
    let verifier: WebhookVerifier
    let ingestor: WebhookIngestor
    let maxBodyBytes: Int
    let retryAfterSeconds: Int
    let logger: Logger

    func handle(_ request: Request) async -> Response {
        let response = await respond(to: request)
        ingestor.publisher.metrics.countRequest(status: Int(response.status.code))
        return response
    }

    private func respond(to request: Request) async -> Response {
        guard Self.isJSON(request.headers[.contentType]) else {
            return refuse(.unsupportedMediaType, "content type must be application/json", size: nil)
        }
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxBodyBytes {
            return refuse(.contentTooLarge, "body larger than \(maxBodyBytes) bytes", size: declared)
        }
        let body: [UInt8]
        switch await readBody(request) {
        case .complete(let bytes): body = bytes
        case .tooLarge: return refuse(.contentTooLarge, "body larger than \(maxBodyBytes) bytes", size: nil)
        case .failed(let error): return refuse(.badRequest, "body could not be read: \(error)", size: nil)
        }
        let keyPair: CalypsoKeyPair
        do {
            keyPair = try verifier.verify(
                key: request.headers.value(named: "key"),
                sign: request.headers.value(named: "sign"),
                body: body
            )
        } catch {
            return refuse(.unauthorized, "\(error)", size: body.count)
        }
        let webhook = SpoolRecord(
            body: body,
            keyId: keyPair.key,
            receivedAt: Timestamp.now.description,
            traceparent: TraceParent.random().rawValue
        )
        let prepared: PreparedWebhook
        do {
            prepared = try ingestor.publisher.prepared(webhook)
        } catch {
            return refuse(.badRequest, "\(error)", size: body.count)
        }
        // Built only when the line is logged: a published webhook logs at debug.
        func metadata(outcome: String) -> Logger.Metadata {
            [
                LoggingKeys.eventId: "\(prepared.eventId)",
                LoggingKeys.eventType: "\(prepared.eventType)",
                LoggingKeys.size: "\(body.count)",
                LoggingKeys.outcome: "\(outcome)",
            ]
        }
        do {
            let outcome = try await ingestor.accept(webhook, prepared: prepared)
            logger.log(
                level: outcome == .published ? .debug : .info,
                "webhook accepted",
                metadata: metadata(outcome: outcome.rawValue)
            )
            return Response(status: .ok)
        } catch {
            var metadata = metadata(outcome: "unavailable")
            metadata[LoggingKeys.error] = "\(error)"
            logger.error("webhook refused: neither published nor spooled", metadata: metadata)
            var headers = HTTPFields()
            headers[.retryAfter] = String(retryAfterSeconds)
            return Response(status: .serviceUnavailable, headers: headers)
        }
    }

    private enum BodyRead {
        case complete([UInt8])
        case tooLarge
        case failed(any Error)
    }

    /// Reads the body while counting, and stops as soon as it passes the limit.
    private func readBody(_ request: Request) async -> BodyRead {
        var body: [UInt8] = []
        do {
            for try await buffer in request.body {
                guard body.count + buffer.readableBytes <= maxBodyBytes else { return .tooLarge }
                body.append(contentsOf: buffer.readableBytesView)
            }
        } catch {
            return .failed(error)
        }
        return .complete(body)
    }

    private func refuse(_ status: HTTPResponse.Status, _ reason: String, size: Int?) -> Response {
        var metadata: Logger.Metadata = [LoggingKeys.status: "\(status.code)", LoggingKeys.error: "\(reason)"]
        if let size { metadata[LoggingKeys.size] = "\(size)" }
        logger.notice("webhook refused", metadata: metadata)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(
            status: status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: reason + "\n"))
        )
    }

    /// `application/json`, with or without parameters such as `charset`.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        // Bytes, not Foundation: this runs on every request.
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let mediaType = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }.drop(while: isSpace)
        let trimmed = mediaType.prefix(mediaType.count - mediaType.reversed().prefix(while: isSpace).count)
        let lowercased = { (byte: UInt8) in (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte }
        return trimmed.elementsEqual("application/json".utf8) { lowercased($0) == $1 }
    }
}

extension HTTPFields {
    /// The first value of the header whose lowercase name is `name` (Calypso's `Key` and `Sign`).
    func value(named name: String) -> String? {
        first { $0.name.canonicalName == name }?.value
    }
}
