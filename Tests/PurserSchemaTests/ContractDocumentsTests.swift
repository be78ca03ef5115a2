import Foundation
import PurserJSON
import Testing

@testable import PurserSchema

@Suite struct ContractDocumentsTests {
    /// Fails when someone changes a message type without running `purser topics schemas`.
    @Test func checkedInFilesMatchTheGeneratedOnes() throws {
        let catalog = try TopicCatalog.load(from: topicsDirectory)
        let generated = try ContractDocuments.files(catalog: catalog)
        for file in generated {
            let checkedIn = try? String(contentsOf: topicsDirectory.appendingPathComponent(file.path), encoding: .utf8)
            #expect(checkedIn == file.contents, "topics/\(file.path) is stale: run `purser topics schemas`")
        }
        let schemaFiles = try FileManager.default.contentsOfDirectory(
            atPath: topicsDirectory.appendingPathComponent(ContractDocuments.schemasFolder).path
        )
        let expected = generated.map(\.path).filter { $0.hasPrefix(ContractDocuments.schemasFolder + "/") }
        #expect(Set(schemaFiles.map { "\(ContractDocuments.schemasFolder)/\($0)" }) == Set(expected))
    }

    @Test(arguments: MessageTypeCase.all)
    func eachSchemaDescribesItsTypesEncodedMembers(_ message: MessageTypeCase) throws {
        let schema = ContractDocuments.dataSchema(for: message.type)
        let properties = try #require(schema["properties"]?.objectValue)
        let example = try #require(
            schema["examples"].flatMap { if case .array(let items) = $0 { items.first } else { nil } }
        )
        #expect(example.objectValue?.keys == properties.keys)
        let required = message.type.fields.filter(\.isRequired).map { JSONValue.string($0.name) }
        #expect(schema["required"] == .array(required))
        #expect(schema["$id"] == .string(message.type.eventType.dataschema))
    }

    @Test func amountsAreSchemaStringsWithExactDigits() throws {
        let schema = ContractDocuments.dataSchema(for: DepositCredited.self)
        let amount = try #require(schema["properties"]?["amount"])
        #expect(amount["type"] == "string")
        let pattern = try #require(amount["pattern"]?.stringValue)
        let regex = try Regex(pattern)
        #expect(try regex.wholeMatch(in: "1000000000.000000000000000001") != nil)
        #expect(try regex.wholeMatch(in: "1e-3") == nil)
        #expect(try regex.wholeMatch(in: "0.1234567890123456789") == nil)
    }

    @Test func theAsyncAPIDocumentListsExactlyThePublicChannels() throws {
        let catalog = try TopicCatalog.load(from: topicsDirectory)
        let document = ContractDocuments.asyncAPI(catalog: catalog)
        #expect(document["asyncapi"] == "3.0.0")
        let addresses = try #require(document["channels"]?.objectValue).members.compactMap {
            $0.value["address"]?.stringValue
        }
        #expect(
            Set(addresses) == ["deposits.credited.v1", "deposits.held.v1", "deposits.declined.v1", "purses.renewed.v1"]
        )
        let messages = try #require(document["components"]?["messages"]?.objectValue)
        #expect(Set(messages.keys) == ["deposit.credited", "deposit.held", "deposit.declined", "purse.renewed"])
        #expect(messages["deposit.credited"]?["contentType"] == "application/cloudevents+json")
    }
}
