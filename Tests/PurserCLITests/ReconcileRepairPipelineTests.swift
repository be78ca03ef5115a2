import Calypso
import CalypsoSandbox
import Foundation
import PurserKafka
import PurserRuntime
import PurserSchema
import PurserTesting
import PurserWorkers
import ServiceLifecycle
import Testing

@testable import PurserCLI

/// `purser reconcile --repair` feeding the real workers: each repaired deposit is credited once.
@Suite(.serialized) struct ReconcileRepairPipelineTests {
    static let account = "0x00000000000000000000000000000000000000aa"
    static let pair = CalypsoKeyPair(
        key: "c529e14832b34b74972365cf7bf02430",
        secret: "b823a6b9ea72408583cef9ec8d67fa52"
    )

    @Test(.timeLimit(.minutes(3)))
    func repairedDepositsAreCreditedOnceEvenWhenRepairedTwice() async throws {
        let kafka = try KafkaTesting.startBroker()
        let topics = TopicNames(prefix: KafkaTesting.uniqueName("repair") + ".")
        for name in TopicNames.Base.all.map(topics.name) { try kafka.createTopic(name, partitions: 2) }
        for worker in TopicNames.Worker.all { try kafka.createTopic(topics.deadLetter(worker: worker), partitions: 1) }
        let admin = try KafkaAdmin(
            options: KafkaClientOptions(bootstrapServers: kafka.brokers),
            logger: KafkaTesting.logger
        )

        var sandboxConfiguration = SandboxConfiguration(account: Self.account, apiCredentials: Self.pair)
        sandboxConfiguration.port = 0
        sandboxConfiguration.seed = 5
        var quiet = KafkaTesting.logger
        quiet.logLevel = .critical
        try await CalypsoSandbox.withRunning(sandboxConfiguration, logger: quiet) { sandbox in
            let baseURL = try await sandbox.baseURL()
            let environment = [
                "KAFKA_BROKERS": kafka.bootstrapServers, "TOPIC_PREFIX": topics.prefix, "CALYPSO_API_URL": baseURL,
                "CALYPSO_ACCOUNT_ID": Self.account, "CALYPSO_API_KEY": Self.pair.key,
                "CALYPSO_API_SECRET": Self.pair.secret,
            ]
            // Two customers with a deposit each whose webhooks nobody receives (no subscription).
            var transactions: [String] = []
            for email in ["ada@example.com", "bob@example.com"] {
                let run = try await OperatorRun.purser(
                    ["customers", "create", "--email", email, "--json"],
                    environment: environment
                )
                let customer = try JSONDecoder().decode(CustomerOptions.Changed.self, from: Data(run.text.utf8))
                    .customer.id
                _ = try await OperatorRun.purser(
                    ["customers", "get-address", customer, "--currency", "ETH"],
                    environment: environment
                )
                transactions.append(
                    try sandbox.simulateDeposit(
                        SandboxDeposit(customerId: customer, currency: "ETH", amount: DecimalAmount("0.25"))
                    ).transactionId
                )
            }
            for _ in 1...2 {
                _ = try await OperatorRun.purser(["reconcile", "--since", "1h", "--repair"], environment: environment)
            }

            var configuration = PurserConfiguration(brokers: .servers(kafka.brokers))
            configuration.topicPrefix = topics.prefix
            configuration.processingGuarantee = .atLeastOnce
            configuration.metricsPort = 0
            configuration.commitInterval = .milliseconds(100)
            configuration.shutdownDrainTimeout = .seconds(2)
            configuration.calypso.accountID = Self.account
            configuration.kafkaProperties = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
            let calypso = CalypsoClient(
                configuration: .init(baseURL: baseURL, account: Self.account, credentials: Self.pair),
                logger: quiet
            )
            var process = WorkerProcess(configuration: configuration, logger: quiet)
            process.host = "127.0.0.1"
            let services = try PipelineWorkers(configuration: configuration, calypso: calypso, logger: quiet).services(
                process: process
            )
            let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: quiet))
            let running = Task { try await group.run() }

            // Whether `group` committed up to the end of every partition of `topic`.
            func consumedAll(_ group: String, _ topic: String) async throws -> Bool {
                let committed = try await admin.committedOffsets(group: group, topics: [topic])
                var caughtUp = true
                for position in committed {
                    let high = try await admin.watermarks(position.topicPartition).high
                    caughtUp = caughtUp && (high == 0 || position.offset == high)
                }
                return caughtUp && !committed.isEmpty
            }
            var credited: [ConsumerRecord] = []
            let deadline = ContinuousClock.now + .seconds(90)
            while ContinuousClock.now < deadline {
                credited =
                    try await admin.readPartition(TopicPartition(topics.depositsCredited, 0))
                    + admin.readPartition(TopicPartition(topics.depositsCredited, 1))
                // In pipeline order, so every output of an earlier stage was read by the next one.
                if credited.count >= 2, try await consumedAll("purser-transaction-fetcher", topics.webhooks),
                    try await consumedAll("purser-customer-policy", topics.transactions),
                    try await consumedAll("purser-deposit-crediter", topics.depositsApproved)
                {
                    break
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            await group.triggerGracefulShutdown()
            try await KafkaTesting.withTimeout(.seconds(30)) { try await running.value }
            try await calypso.shutdown()

            let creditedTransactions = try credited.map {
                try CloudEventEnvelope(recordValue: #require($0.value)).data?["transactionId"]?.stringValue
            }
            #expect(creditedTransactions.count == 2)
            #expect(Set(creditedTransactions.compactMap { $0 }) == Set(transactions))

            let after = try await OperatorRun.purser(
                ["reconcile", "--since", "1h", "--json"],
                environment: environment
            )
            let report = try JSONDecoder().decode(ReconcileCommand.Report.self, from: Data(after.text.utf8))
            #expect(report.missing.isEmpty)
            #expect(report.unexpected.isEmpty)
        }
    }
}
