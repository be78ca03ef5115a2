import Foundation
import Testing

@testable import PurserSchema

/// The `topics/` folder of this repository, found from this file rather than the working directory.
let topicsDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("topics")

@Suite struct TopicCatalogTests {
    @Test func theCheckedInFolderDeclaresEveryContractTopic() throws {
        let catalog = try TopicCatalog.load(from: topicsDirectory)
        #expect(Set(catalog.topics.map(\.name)) == Set(TopicCatalog.contractTopics))
        #expect(catalog.topics.count == TopicCatalog.contractTopics.count)

        let customers = try #require(catalog.topic(named: "purser.customers.v1"))
        #expect(customers.configs["cleanup.policy"] == "compact")
        #expect(customers.messageTypes == [.customerChanged])

        let deadLetters = try #require(catalog.topic(named: "purser.dlq.deposit-crediter.v1"))
        #expect(deadLetters.visibility == "ops")
        #expect(deadLetters.producers == ["purser-deposit-crediter"])
        #expect(deadLetters.summary.contains("deposit-crediter"))

        for type in MessageTypes.all {
            let topics = catalog.topics.filter { $0.messageTypes.contains(type.eventType) }.map(\.name)
            #expect(topics == [TopicNames().topic(for: type.eventType)].compactMap { $0 }, "\(type.eventType)")
        }
        for topic in catalog.topics {
            #expect(topic.key == "customerId")
            #expect(topic.replicationFactor == 3, "\(topic.name)")
        }
    }

    /// The crediter rebuilds its deduplication state from deposits.credited.v1, so that topic must
    /// outlive every record that can lead to a credit.
    @Test func creditsOutliveEverythingThatCanCauseThem() throws {
        let catalog = try TopicCatalog.load(from: topicsDirectory)
        func retention(_ name: String) throws -> Int64 {
            let text = try #require(catalog.topic(named: name)?.configs["retention.ms"])
            return try #require(Int64(text))
        }
        let credited = try retention(TopicNames.Base.depositsCredited)
        for upstream in [TopicNames.Base.webhooks, TopicNames.Base.transactions, TopicNames.Base.depositsApproved] {
            #expect(try retention(upstream) < credited, "\(upstream)")
        }
    }

    @Test func prefixesApplyToEveryDeclaration() throws {
        let catalog = try TopicCatalog.load(from: topicsDirectory)
        #expect(catalog.topics(prefix: "prod.").map(\.name) == catalog.topics.map { "prod." + $0.name })
    }

    private func files(replacing name: String, with contents: String?) throws -> [(name: String, contents: String)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: topicsDirectory.path)
            .filter { $0.hasSuffix(".yaml") && $0 != TopicCatalog.asyncAPIFile }.sorted()
        var files = try names.map {
            ($0, try String(contentsOf: topicsDirectory.appendingPathComponent($0), encoding: .utf8))
        }
        files.removeAll { $0.0 == name }
        if let contents { files.append((name, contents)) }
        return files
    }

    @Test(
        arguments: [
            ("deposits.held.v1.yaml", nil, "topics/: no declaration for deposits.held.v1"),
            (
                "deposits.held.v1.yaml", "name: deposits.held.v1\nvisibility: public\npartitions: 0",
                "partitions must be a positive integer"
            ),
            (
                "deposits.held.v1.yaml", "name: deposits.held.v1\nvisibility: secret",
                "visibility must be public, internal or ops"
            ),
            (
                "extra.yaml",
                "name: deposits.held.v1\nvisibility: public\npartitions: 12\nreplicationFactor: 3\nkey: customerId\nmessageTypes: []",
                "topics/extra.yaml: topic deposits.held.v1 is already declared in deposits.held.v1.yaml"
            ),
            (
                "extra.yaml",
                "name: x y\nvisibility: ops\npartitions: 1\nreplicationFactor: 1\nkey: customerId\nmessageTypes: []",
                "x y is not a legal Kafka topic name"
            ),
            (
                "extra.yaml",
                "name: x\nvisibility: ops\npartitions: 1\nreplicationFactor: 1\nkey: transactionId\nmessageTypes: []",
                "key must be customerId"
            ),
            (
                "extra.yaml",
                "name: x\nvisibility: ops\npartitions: 1\nreplicationFactor: 1\nkey: customerId\nmessageTypes: [deposit.refunded]",
                "message type deposit.refunded is not defined"
            ),
            (
                "extra.yaml",
                "name: x\nvisibility: internal\npartitions: 3\nreplicationFactor: 1\nkey: customerId\nmessageTypes: []",
                "must be co-partitioned"
            ),
            ("extra.yaml", "name: [unclosed", "topics/extra.yaml: not a topic declaration"),
            (
                "extra.yaml", "name: x\nvisibility: ops\npartitions: six",
                "topics/extra.yaml: not a topic declaration: partitions"
            ),
            (
                "purser.dlq.yaml",
                "name: purser.dlq.{worker}.v1\nvisibility: ops\npartitions: 1\nreplicationFactor: 1\nkey: customerId\nmessageTypes: []",
                "needs a workers list"
            ),
        ] as [(String, String?, String)]
    )
    func invalidDeclarationsAreRejectedNamingTheFile(file: String, contents: String?, message: String) throws {
        let files = try files(replacing: file, with: contents)
        #expect {
            try TopicCatalog(files: files)
        } throws: { error in
            (error as? TopicCatalogError)?.description.contains(message) == true
        }
    }

    @Test func aMissingFolderIsAClearError() {
        #expect {
            try TopicCatalog.load(from: topicsDirectory.appendingPathComponent("nowhere"))
        } throws: { error in
            (error as? TopicCatalogError)?.description.contains("cannot list the folder") == true
        }
    }
}
