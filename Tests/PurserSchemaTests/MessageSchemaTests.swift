import PurserJSON
import Testing

@testable import PurserSchema

/// The field descriptions must match the Codable conformance, or the generated JSON Schemas lie.
@Suite struct MessageSchemaTests {
    @Test(arguments: MessageTypeCase.all)
    func theExampleEncodesExactlyTheDescribedFieldsInOrder(_ message: MessageTypeCase) throws {
        try checkFields(message.type)
    }

    @Test(arguments: MessageTypeCase.all)
    func exactlyTheRequiredFieldsAreRequiredByDecoding(_ message: MessageTypeCase) throws {
        try checkRequired(message.type)
    }

    @Test func everyEventTypeHasExactlyOneMessageType() {
        let eventTypes = MessageTypes.all.map { $0.eventType }
        #expect(eventTypes == EventType.knownValues)
    }

    private func checkFields<D: EventData>(_ type: D.Type) throws {
        let encoded = try #require(try JSONValueEncoder().encode(D.example).objectValue)
        #expect(encoded.keys == D.fields.map(\.name))
        for field in D.fields {
            let value = try #require(encoded[field.name])
            switch field.kind {
            case .string: #expect(value.stringValue != nil, "\(field.name)")
            case .decimalAmount: #expect(try DecimalAmount(#require(value.stringValue)).text == value.stringValue)
            case .boolean: #expect(value == .bool(true) || value == .bool(false), "\(field.name)")
            case .timestamp:
                #expect(try Timestamp(rfc3339: #require(value.stringValue)).description == value.stringValue)
            case .openEnumeration(let known): #expect(known.contains(try #require(value.stringValue)), "\(field.name)")
            case .object: #expect(value.objectValue != nil, "\(field.name)")
            }
        }
    }

    private func checkRequired<D: EventData>(_ type: D.Type) throws {
        let encoded = try #require(try JSONValueEncoder().encode(D.example).objectValue)
        for field in D.fields {
            var reduced = encoded
            reduced[field.name] = nil
            let decoded = Result { try JSONValueDecoder().decode(D.self, from: .object(reduced)) }
            switch decoded {
            case .success: #expect(!field.isRequired, "\(D.eventType).\(field.name) is required but decodes without it")
            case .failure: #expect(field.isRequired, "\(D.eventType).\(field.name) is optional but decoding needs it")
            }
        }
    }
}
