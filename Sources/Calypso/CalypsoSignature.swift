import Crypto
import Foundation

/// A Calypso key pair: the public value sent in the `Key` header and the secret that signs with it.
///
/// Merchant API credentials and webhook subscriptions each have one; they are different pairs.
public struct CalypsoKeyPair: Sendable, Hashable {
    public var key: String
    public var secret: String

    public init(key: String, secret: String) {
        self.key = key
        self.secret = secret
    }

    /// Pairs the i-th key with the i-th secret of two comma-separated lists, as in
    /// `CALYPSO_WEBHOOK_KEY`/`CALYPSO_WEBHOOK_SECRET` during a key rotation.
    /// - Throws: ``CalypsoKeyPairListError`` when the lists are empty or differ in length.
    public static func pairs(keys: String, secrets: String) throws -> [CalypsoKeyPair] {
        let keyList = keys.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let secretList = secrets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !keyList.isEmpty, keyList.count == secretList.count else {
            throw CalypsoKeyPairListError(keyCount: keyList.count, secretCount: secretList.count)
        }
        return zip(keyList, secretList).map { CalypsoKeyPair(key: $0, secret: $1) }
    }
}

/// The key and secret lists of a rotation do not pair up. Never carries the values themselves.
public struct CalypsoKeyPairListError: Error, CustomStringConvertible {
    public var keyCount: Int
    public var secretCount: Int
    public var description: String {
        "expected as many webhook secrets as keys, got \(keyCount) key(s) and \(secretCount) secret(s)"
    }
}

/// Calypso's signature: lowercase hex HMAC-SHA512 over the exact body bytes, keyed by the
/// secret's UTF-8 bytes (not hex-decoded). The same scheme signs API requests and webhooks.
public enum CalypsoSignature {
    public static func sign(_ body: some DataProtocol, secret: String) -> String {
        let mac = HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Whether `signature` (hex, either case) signs `body` with `secret`; compares in constant time.
    public static func isValid(_ signature: String, for body: some DataProtocol, secret: String) -> Bool {
        guard let mac = bytes(fromHex: signature), mac.count == SHA512.byteCount else { return false }
        return HMAC<SHA512>.isValidAuthenticationCode(
            mac,
            authenticating: body,
            using: SymmetricKey(data: Data(secret.utf8))
        )
    }

    private static func bytes(fromHex hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Checks a webhook delivery's `Key` and `Sign` headers against every configured key pair,
/// so that old and new pairs are both accepted while a rotation is under way.
public struct WebhookVerifier: Sendable {
    /// Why a delivery was refused. Every case answers 401 at ingest.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case missingKey, unknownKey, missingSignature, badSignature

        public var description: String {
            switch self {
            case .missingKey: "missing Key header"
            case .unknownKey: "unknown Key"
            case .missingSignature: "missing Sign header"
            case .badSignature: "signature does not match the body"
            }
        }
    }

    public let keyPairs: [CalypsoKeyPair]

    public init(keyPairs: [CalypsoKeyPair]) {
        self.keyPairs = keyPairs
    }

    /// - Returns: the key pair that signed `body`. Every pair with the `Key` is tried, so a rotation may keep
    ///   the key and change only the secret.
    public func verify(key: String?, sign: String?, body: some DataProtocol) throws(Failure) -> CalypsoKeyPair {
        guard let key, !key.isEmpty else { throw .missingKey }
        let candidates = keyPairs.filter { $0.key == key }
        guard !candidates.isEmpty else { throw .unknownKey }
        guard let sign, !sign.isEmpty else { throw .missingSignature }
        guard let pair = candidates.first(where: { CalypsoSignature.isValid(sign, for: body, secret: $0.secret) }) else {
            throw .badSignature
        }
        return pair
    }
}
