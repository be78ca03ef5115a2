import Foundation
import PurserJSON
import PurserSchema
import PurserTesting
import Testing

@testable import PurserCLI

private let topicsDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("topics")

@Suite struct TopicsCommandTests {
    @Test func listPrintsATableWithThePrefix() throws {
        let command = try TopicsList.parse(["--topics-dir", topicsDirectory.path, "--prefix", "prod."])
        let lines = try command.output().split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines.first == "TOPIC VISIBILITY PARTITIONS RF CLEANUP RETENTION MESSAGE TYPES")
        #expect(lines.count == 1 + TopicCatalog.contractTopics.count)
        #expect(lines.contains("prod.deposits.credited.v1 public 12 3 delete 400d deposit.credited"))
        #expect(lines.contains("prod.purser.customers.v1 internal 12 3 compact - purser.customer.changed"))
        #expect(lines.contains("prod.purser.dlq.purse-renewer.v1 ops 6 3 delete 30d (original records)"))
    }

    @Test func listPrintsJSONForScripts() throws {
        let command = try TopicsList.parse(["--topics-dir", topicsDirectory.path, "--json"])
        let json = try JSONValue(parsing: command.output())
        guard case .array(let topics) = json else {
            Issue.record("expected an array, got \(json.typeName)")
            return
        }
        #expect(topics.compactMap { $0["name"]?.stringValue } == TopicCatalog.contractTopics.sorted())
        let customers = try #require(topics.first { $0["name"] == "purser.customers.v1" })
        #expect(customers["partitions"] == .number("12"))
        #expect(customers["configs"]?["cleanup.policy"] == "compact")
        #expect(customers["configs"]?.objectValue?.keys == customers["configs"]?.objectValue?.keys.sorted())
        #expect(customers["messageTypes"] == ["purser.customer.changed"])
    }

    @Test(.timeLimit(.minutes(1)))
    func applyFailsWhenAnExistingTopicHasAnotherPartitionCount() async throws {
        let prefix = KafkaTesting.uniqueName("apply") + "."
        let kafka = try KafkaTesting.startBroker()
        let declared = try TopicCatalog.load(from: topicsDirectory).topics(prefix: prefix)
        let credited = prefix + "deposits.credited.v1"
        for topic in declared {
            try kafka.createTopic(topic.name, partitions: topic.name == credited ? 6 : topic.partitions)
        }
        let apply = try TopicsApply.parse(["--topics-dir", topicsDirectory.path, "--prefix", prefix, "--kafka-brokers", kafka.bootstrapServers])
        await #expect {
            try await apply.run()
        } throws: { error in
            "\(error)" == "partition counts differ from topics/: \(credited) has 6, declared 12. "
                + "Workers need co-partitioned topics; fix the topics before starting them."
        }
    }

    @Test func aMissingFolderFailsWithItsPath() throws {
        let command = try TopicsList.parse(["--topics-dir", "/nonexistent/topics"])
        #expect {
            try command.output()
        } throws: { error in
            "\(error)".contains("/nonexistent/topics") && "\(error)".contains("cannot list the folder")
        }
    }

    @Test func schemasRewritesWhatDriftedAndCheckReportsIt() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("topics-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: topicsDirectory, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        let held = copy.appendingPathComponent("schemas/deposit.held.json")
        let original = try String(contentsOf: held, encoding: .utf8)
        try Data("{}\n".utf8).write(to: held)
        try Data("{}\n".utf8).write(to: copy.appendingPathComponent("schemas/deposit.refunded.json"))

        let check = try TopicsSchemas.parse(["--topics-dir", copy.path, "--check"]).synchronize()
        #expect(check.differences == 2)
        #expect(check.lines.contains("outdated   schemas/deposit.held.json"))
        #expect(check.lines.contains("extra      schemas/deposit.refunded.json"))
        #expect(try String(contentsOf: held, encoding: .utf8) == "{}\n")

        let write = try TopicsSchemas.parse(["--topics-dir", copy.path]).synchronize()
        #expect(write.differences == 2)
        #expect(write.lines.contains("wrote      schemas/deposit.held.json"))
        #expect(write.lines.contains("removed    schemas/deposit.refunded.json"))
        #expect(try String(contentsOf: held, encoding: .utf8) == original)
        #expect(
            !FileManager.default.fileExists(atPath: copy.appendingPathComponent("schemas/deposit.refunded.json").path)
        )

        let again = try TopicsSchemas.parse(["--topics-dir", copy.path, "--check"]).synchronize()
        #expect(again.differences == 0)
        #expect(again.lines.allSatisfy { $0.hasPrefix("unchanged") })
    }
}
