import Testing

@testable import PurserIngest

@Suite("Webhook content type")
struct ContentTypeTests {
    @Test(arguments: [
        "application/json", "Application/JSON", "application/json; charset=utf-8", " application/json\t;charset=utf-8",
        "APPLICATION/JSON ",
    ])
    func jsonMediaTypesAreAccepted(contentType: String) {
        #expect(WebhookEndpoint.isJSON(contentType))
    }

    @Test(arguments: [
        nil, "", "text/plain", "application/jsonx", "application/jso", "application/json-seq", "xapplication/json",
        "application/ json", "multipart/form-data; boundary=application/json",
    ] as [String?])
    func otherMediaTypesAreRefused(contentType: String?) {
        #expect(!WebhookEndpoint.isJSON(contentType))
    }
}
