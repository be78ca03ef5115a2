import NIOCore
import Testing

@testable import Calypso

@Suite struct CalypsoErrorTests {
    static let path = "/api/v1/customer-purse/transaction/get"

    static func failure(_ status: Int, _ body: String) -> CalypsoError {
        CalypsoClient.failure(status: status, body: ByteBuffer(string: body), path: path)
    }

    @Test(arguments: [
        (500, #"{"errorCode":"000","message":"Internal server error","traceId":"x"}"#, "000", true),
        (400, #"{"errorCode":"003","message":"wrong sign"}"#, "003", false),
        (400, #"{"errorCode":"011","message":"invalid timestamp"}"#, "011", false),
        (400, #"{"errorCode":"004","message":"not found"}"#, "004", false),
        (400, #"{"errorCode":"000","message":"internal"}"#, "000", true),
        (429, #"{"errorCode":"001","message":"slow down"}"#, "001", true),
    ])
    func calypsoErrorBodiesKeepTheirCode(status: Int, body: String, errorCode: String, transient: Bool) {
        let error = Self.failure(status, body)
        #expect(error.code == .api)
        #expect(error.status == status)
        #expect(error.errorCode == errorCode)
        #expect(error.isTransient == transient)
    }

    @Test(arguments: [(502, true), (503, true), (429, true), (404, false), (401, false), (400, false)])
    func statusesWithoutCalypsoBodyAreClassifiedByStatus(status: Int, transient: Bool) {
        let error = Self.failure(status, "<html>gateway</html>")
        #expect(error.code == .httpStatus)
        #expect(error.errorCode == nil)
        #expect(error.isTransient == transient)
    }

    @Test func timeoutsAndConnectionFailuresAreTransientBadDataIsNot() {
        #expect(CalypsoError(code: .timeout, operation: Self.path).isTransient)
        #expect(CalypsoError(code: .transport, operation: Self.path).isTransient)
        #expect(!CalypsoError(code: .invalidResponse, operation: Self.path, status: 200).isTransient)
        #expect(!CalypsoError(code: .invalidRequest, operation: Self.path).isTransient)
    }

    @Test func descriptionNamesCodeAndClassWithoutTheMessage() {
        let error = Self.failure(400, #"{"errorCode":"003","message":"secret-ish detail"}"#)
        #expect(error.description == "Calypso \(Self.path): api HTTP 400 errorCode 003 (permanent)")
        #expect(error.debugDescription.contains("secret-ish detail"))
    }
}
