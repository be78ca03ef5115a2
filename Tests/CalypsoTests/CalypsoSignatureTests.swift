import Foundation
import Testing

@testable import Calypso

@Suite struct CalypsoSignatureTests {
    let secret = "b823a6b9ea72408583cef9ec8d67fa52"

    @Test func documentedTestVector() {
        #expect(
            CalypsoSignature.sign(Data(#"{"timestamp":1}"#.utf8), secret: secret)
                == "b16e9d45f49f2069becbc4f108b237bee588cfc353fe9501df103e692acbc68d482a10d34c12bea22fedde7e28e1b8e57a6a0a373b0e9a27c5257bd8b36e13b9"
        )
    }

    @Test func verifierAcceptsEveryRotatedPairAndRejectsTheRest() throws {
        let pairs = try CalypsoKeyPair.pairs(keys: "old, new", secrets: "s-old,s-new")
        let verifier = WebhookVerifier(keyPairs: pairs)
        let body = Data(#"{"id":1}"#.utf8)
        for pair in pairs {
            let sign = CalypsoSignature.sign(body, secret: pair.secret)
            #expect(try verifier.verify(key: pair.key, sign: sign, body: body) == pair)
            #expect(try verifier.verify(key: pair.key, sign: sign.uppercased(), body: body) == pair)
        }
        let good = CalypsoSignature.sign(body, secret: "s-new")
        #expect(throws: WebhookVerifier.Failure.missingKey) { try verifier.verify(key: nil, sign: good, body: body) }
        #expect(throws: WebhookVerifier.Failure.unknownKey) {
            try verifier.verify(key: "other", sign: good, body: body)
        }
        #expect(throws: WebhookVerifier.Failure.missingSignature) {
            try verifier.verify(key: "new", sign: nil, body: body)
        }
        #expect(throws: WebhookVerifier.Failure.badSignature) {
            try verifier.verify(key: "old", sign: good, body: body)
        }
        #expect(throws: WebhookVerifier.Failure.badSignature) {
            try verifier.verify(key: "new", sign: good, body: Data(#"{"id":2}"#.utf8))
        }
        #expect(throws: WebhookVerifier.Failure.badSignature) {
            try verifier.verify(key: "new", sign: "zz", body: body)
        }
    }

    @Test func aRotationMayKeepTheKeyAndChangeTheSecret() throws {
        let verifier = WebhookVerifier(keyPairs: try CalypsoKeyPair.pairs(keys: "k,k", secrets: "s-old,s-new"))
        let body = Data(#"{"id":1}"#.utf8)
        for secret in ["s-old", "s-new"] {
            let pair = try verifier.verify(key: "k", sign: CalypsoSignature.sign(body, secret: secret), body: body)
            #expect(pair.secret == secret)
        }
        #expect(throws: WebhookVerifier.Failure.badSignature) {
            try verifier.verify(key: "k", sign: CalypsoSignature.sign(body, secret: "s-other"), body: body)
        }
    }

    @Test func mismatchedRotationListsAreRefused() {
        #expect(throws: CalypsoKeyPairListError.self) { try CalypsoKeyPair.pairs(keys: "a,b", secrets: "x") }
        #expect(throws: CalypsoKeyPairListError.self) { try CalypsoKeyPair.pairs(keys: "", secrets: "") }
    }
}
