import PurserKafka
import PurserRuntime
import PurserTesting
import Testing

@testable import PurserCLI

@Suite struct OperatorTopicNameTests {
    /// A cluster whose `TOPIC_PREFIX` is `purser.`, which also starts some contract topic names.
    func cluster(topics: [String]) throws -> OperatorKafka {
        var configuration = PurserConfiguration(brokers: .servers(["127.0.0.1:1"]))
        configuration.topicPrefix = "purser."
        return OperatorKafka(
            configuration: configuration,
            admin: try KafkaAdmin(options: KafkaClientOptions(bootstrapServers: ["127.0.0.1:1"]), logger: KafkaTesting.logger),
            timeout: .seconds(1),
            partitionCounts: Dictionary(uniqueKeysWithValues: topics.map { ($0, 12) })
        )
    }

    @Test func thePrefixIsAddedEvenWhenTheNameAlreadyStartsWithIt() throws {
        let cluster = try cluster(topics: ["purser.purser.transactions.v1", "purser.calypso.webhooks.v1", "purser.transactions.v1"])
        #expect(cluster.topicName("purser.transactions.v1") == "purser.purser.transactions.v1")
        #expect(cluster.topicName("purser.purser.transactions.v1") == "purser.purser.transactions.v1", "a full name")
        #expect(cluster.topicName("calypso.webhooks.v1") == "purser.calypso.webhooks.v1")
        #expect(cluster.topicName("purser.calypso.webhooks.v1") == "purser.calypso.webhooks.v1", "a full name")
        #expect(cluster.topicName("missing.v1") == "purser.missing.v1", "an unknown name gets the prefix, for the error")
        #expect(try cluster.pipelineTopics().contains("purser.purser.transactions.v1"))
    }
}
