import Calypso
import CalypsoSandbox
import Foundation
import PurserJSON
import PurserKafka
import PurserSchema
import PurserTesting
import Testing

@testable import PurserCLI

@Suite(.serialized) struct CustomersAndReconcileTests {
    static let account = "0x00000000000000000000000000000000000000aa"
    static let pair = CalypsoKeyPair(
        key: "c529e14832b34b74972365cf7bf02430",
        secret: "b823a6b9ea72408583cef9ec8d67fa52"
    )

    let kafka: EmbeddedKafka
    let prefix = KafkaTesting.uniqueName("ops") + "."
    let topics: TopicNames

    init() throws {
        kafka = try KafkaTesting.startBroker()
        topics = TopicNames(prefix: prefix)
        for topic in [
            topics.customers, topics.webhooks, topics.depositsCredited, topics.depositsHeld, topics.depositsDeclined,
        ] {
            try kafka.createTopic(topic, partitions: 2)
        }
    }

    /// Runs an in-process sandbox (which delivers no webhooks: nothing subscribed) for `body`.
    private func withSandbox<T>(_ body: (CalypsoSandbox, [String: String]) async throws -> T) async throws -> T {
        var configuration = SandboxConfiguration(account: Self.account, apiCredentials: Self.pair)
        configuration.port = 0
        configuration.seed = 11
        var logger = KafkaTesting.logger
        logger.logLevel = .critical
        return try await CalypsoSandbox.withRunning(configuration, logger: logger) { sandbox in
            let environment = [
                "KAFKA_BROKERS": kafka.bootstrapServers, "TOPIC_PREFIX": prefix,
                "CALYPSO_API_URL": try await sandbox.baseURL(), "CALYPSO_ACCOUNT_ID": Self.account,
                "CALYPSO_API_KEY": Self.pair.key, "CALYPSO_API_SECRET": Self.pair.secret,
            ]
            return try await body(sandbox, environment)
        }
    }

    private func read(_ topic: String) async throws -> [ConsumerRecord] {
        let admin = try KafkaAdmin(
            options: KafkaClientOptions(bootstrapServers: kafka.brokers),
            logger: KafkaTesting.logger
        )
        return try await admin.readPartition(TopicPartition(topic, 0)) + admin.readPartition(TopicPartition(topic, 1))
    }

    private func createCustomer(_ email: String, environment: [String: String]) async throws -> CustomerOptions.Changed
    {
        let run = try await OperatorRun.purser(
            ["customers", "create", "--email", email, "--json"],
            environment: environment
        )
        return try JSONDecoder().decode(CustomerOptions.Changed.self, from: Data(run.text.utf8))
    }

    @Test(.timeLimit(.minutes(1)))
    func customerCommandsCallCalypsoAndPublishTheChange() async throws {
        try await withSandbox { _, environment in
            let created = try await createCustomer("ada@example.com", environment: environment)
            #expect(created.customer.email == "ada@example.com")
            #expect(created.topic == topics.customers)

            let blocked = try await OperatorRun.purser(
                ["customers", "block", created.customer.id],
                environment: environment
            ).text
            #expect(
                blocked.hasPrefix(
                    "customer \(created.customer.id) blocked (blocked: yes); published purser.customer.changed"
                )
            )
            _ = try await OperatorRun.purser(
                ["customers", "update", created.customer.id, "--description", "VIP"],
                environment: environment
            )

            let changes = try await read(topics.customers).sorted { $0.offset < $1.offset }
                .map { try CloudEvent<CustomerChanged>(recordValue: #require($0.value)) }
            #expect(changes.map(\.data.customerId) == Array(repeating: created.customer.id, count: 3))
            #expect(changes.map(\.data.blocked) == [false, true, true])
            #expect(changes.last?.data.description == "VIP")
            #expect(changes.allSatisfy { $0.data.changedBy == .cli && $0.subject == created.customer.id })
            #expect(try await read(topics.customers).allSatisfy { $0.key == Array(created.customer.id.utf8) })

            let address = try await OperatorRun.purser(
                ["customers", "get-address", created.customer.id, "--currency", "USDT_TRX", "--json"],
                environment: environment
            )
            let purse = try JSONDecoder().decode(CustomerAddress.Address.self, from: Data(address.text.utf8))
            #expect(!purse.address.isEmpty)
            let again = try await OperatorRun.purser(
                ["customers", "get-address", created.customer.id, "--currency", "USDT_TRX"],
                environment: environment
            )
            #expect(again.output == [purse.address])
        }
    }

    @Test func anUnknownCustomerIsReportedByCalypso() async throws {
        try await withSandbox { _, environment in
            await #expect {
                try await OperatorRun.purser(
                    ["customers", "block", "00000000-0000-4000-8000-000000000000"],
                    environment: environment
                )
            } throws: { error in
                "\(error)".hasPrefix("Calypso /api/v1/customer-purse/customer/block: ")
            }
            let published = try await read(topics.customers)
            #expect(published.isEmpty)
        }
    }

    @Test func calypsoSettingsAreRequired() async throws {
        await #expect {
            try await OperatorRun.purser(
                ["customers", "create"],
                environment: ["KAFKA_BROKERS": kafka.bootstrapServers]
            )
        } throws: { error in
            "\(error)".contains("CALYPSO_API_URL")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func reconcileReportsUndeliveredDepositsAndRepairsEachOnce() async throws {
        try await withSandbox { sandbox, environment in
            let ada = try await createCustomer("ada@example.com", environment: environment).customer.id
            let bob = try await createCustomer("bob@example.com", environment: environment).customer.id
            for customer in [ada, bob] {
                _ = try await OperatorRun.purser(
                    ["customers", "get-address", customer, "--currency", "USDT_TRX"],
                    environment: environment
                )
            }
            let credited = try sandbox.simulateDeposit(
                SandboxDeposit(customerId: ada, currency: "USDT_TRX", amount: DecimalAmount("1.5"))
            )
            let lost = try sandbox.simulateDeposit(
                SandboxDeposit(customerId: ada, currency: "USDT_TRX", amount: DecimalAmount("0.000000000000000001"))
            )
            let lostToo = try sandbox.simulateDeposit(
                SandboxDeposit(customerId: bob, currency: "USDT_TRX", amount: DecimalAmount("7"))
            )
            var declined = SandboxDeposit(customerId: bob, currency: "USDT_TRX", amount: try DecimalAmount("3"))
            declined.outcome = .declined
            try sandbox.simulateDeposit(declined)
            // The pipeline credited one deposit, and one Calypso never confirmed.
            _ = try await TestRecords.send(
                [
                    TestRecords.event(
                        topic: topics.depositsCredited,
                        type: .depositCredited,
                        customer: ada,
                        data: ["transactionId": .string(credited.transactionId)]
                    ),
                    TestRecords.event(
                        topic: topics.depositsCredited,
                        type: .depositCredited,
                        customer: bob,
                        id: "ghost-event",
                        data: ["transactionId": "ghost"]
                    ),
                ],
                to: kafka
            )

            let report = try await reconcile(["--since", "1h"], environment: environment)
            #expect(report.customers == 2)
            #expect(report.confirmed == 3)
            #expect(Set(report.missing.map(\.transactionId)) == [lost.transactionId, lostToo.transactionId])
            #expect(report.missing.first { $0.transactionId == lost.transactionId }?.amount == "0.000000000000000001")
            #expect(
                report.unexpected == [
                    .init(
                        transactionId: "ghost",
                        customerId: bob,
                        topic: topics.depositsCredited,
                        eventID: "ghost-event"
                    )
                ]
            )
            #expect(report.repaired.isEmpty)
            #expect(try await read(topics.webhooks).isEmpty)

            let first = try await reconcile(["--since", "1h", "--repair"], environment: environment)
            #expect(Set(first.repaired.map(\.transactionId)) == [lost.transactionId, lostToo.transactionId])
            let second = try await reconcile(["--since", "1h", "--repair"], environment: environment)
            #expect(Set(second.repaired.map(\.eventID)) == Set(first.repaired.map(\.eventID)))

            let webhooks = try await read(topics.webhooks).map {
                try CloudEvent<WebhookReceived>(recordValue: #require($0.value))
            }
            #expect(webhooks.count == 4)
            #expect(Set(webhooks.map(\.id)).count == 2)
            for webhook in webhooks {
                #expect(webhook.extensions[ReconcileCommand.originAttribute] == .string(ReconcileCommand.origin))
                #expect(webhook.data.keyId == ReconcileCommand.origin)
                #expect(webhook.data.eventType == .fundsReceived)
                let transactionID = try #require(webhook.data.payload["transactionId"]?.stringValue)
                #expect(webhook.subject == (transactionID == lost.transactionId ? ada : bob))
            }
            let old = try await reconcile(["--since", "0s"], environment: environment)
            #expect(old.missing.isEmpty)
        }
    }

    @Test("a customer known only from the webhooks topic is reconciled too", .timeLimit(.minutes(1)))
    func reconcileFindsCustomersOnTheWebhooksTopic() async throws {
        try await withSandbox { sandbox, environment in
            // Created at Calypso directly, so not on purser.customers.v1; its webhook arrived, no decision followed.
            let calypso = CalypsoClient(
                configuration: .init(baseURL: try await sandbox.baseURL(), account: Self.account, credentials: Self.pair),
                logger: KafkaTesting.logger
            )
            let customer = try await calypso.createCustomer(CalypsoCustomerDetails()).id
            _ = try await calypso.address(customerId: customer, currency: "ETH")
            try await calypso.shutdown()
            let deposit = try sandbox.simulateDeposit(SandboxDeposit(customerId: customer, currency: "ETH", amount: DecimalAmount("2")))
            _ = try await TestRecords.send(
                [TestRecords.event(topic: topics.webhooks, type: .webhookReceived, customer: customer, data: ["payload": ["customerId": .string(customer)]])],
                to: kafka
            )
            let report = try await reconcile(["--since", "1h"], environment: environment)
            #expect(report.missing.map(\.transactionId) == [deposit.transactionId])
        }
    }

    private func reconcile(_ arguments: [String], environment: [String: String]) async throws -> ReconcileCommand.Report
    {
        let run = try await OperatorRun.purser(["reconcile", "--json"] + arguments, environment: environment)
        return try JSONDecoder().decode(ReconcileCommand.Report.self, from: Data(run.text.utf8))
    }
}
