import ArgumentParser
import Calypso
import PurserKafka
import PurserSchema
import PurserWorkers

/// `purser customers create|update|block|unblock|get-address …`: change a customer at Calypso and
/// tell the pipeline (`purser.customer.changed` on `purser.customers.v1`).
struct CustomersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers",
        abstract: "Create, update, block or unblock a customer at Calypso and publish purser.customer.changed.",
        discussion:
            "Calypso settings: CALYPSO_API_URL, CALYPSO_ACCOUNT_ID, CALYPSO_API_KEY, CALYPSO_API_SECRET (or …_FILE).",
        subcommands: [
            CustomerCreate.self, CustomerUpdate.self, CustomerBlock.self, CustomerUnblock.self, CustomerAddress.self,
        ]
    )

    /// The `source` of the events the CLI publishes.
    static let source = "purser-cli"
}

/// What every `customers` subcommand needs: Kafka, Calypso and the output format.
struct CustomerOptions: ParsableArguments {
    @OptionGroup var kafka: KafkaOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func withCalypso<T>(_ body: (CalypsoClient) async throws -> T) async throws -> T {
        try await kafka.withCalypso(body)
    }

    /// Calls Calypso with `change`, then publishes the customer's new state.
    func change(_ change: (CalypsoClient) async throws -> CalypsoCustomer, verb: String) async throws {
        // Kafka first: an unreachable cluster then fails before Calypso is changed.
        let cluster = try await OperatorKafka.connect(kafka)
        let customer = try await withCalypso(change)
        let event = CloudEvent(
            data: CustomerChanged(
                customerId: customer.id,
                email: customer.email,
                description: customer.description,
                externalId: customer.externalId,
                blocked: customer.blocked,
                changedAt: .now,
                changedBy: .cli
            ),
            source: CustomersCommand.source,
            traceparent: nil
        )
        let topic = cluster.configuration.topics.customers
        let report: DeliveryReport
        do {
            report = try await cluster.publish([OperatorKafka.record(event.envelope(), topic: topic)])[0]
        } catch {
            throw OperatorError(
                "customer \(customer.id) was \(verb) at Calypso but publishing the change failed: \(error)"
            )
        }
        let result = Changed(
            customer: customer,
            eventID: event.id,
            topic: report.topic,
            partition: report.partition,
            offset: report.offset
        )
        let context = OperatorContext.current
        if json {
            context.write(try JSONOutput.text(result))
        } else {
            context.write(
                "customer \(customer.id) \(verb) (blocked: \(customer.blocked ? "yes" : "no")); "
                    + "published \(event.type) \(event.id) to \(report.topic)/\(report.partition)/\(report.offset)"
            )
        }
    }

    struct Changed: Codable, Equatable {
        var customer: CalypsoCustomer
        var eventID: String
        var topic: String
        var partition: Int32
        var offset: Int64
    }
}

/// The details `create` and `update` send.
struct CustomerDetailOptions: ParsableArguments {
    @Option(help: "E-mail address.") var email: String?
    @Option(help: "Free-text description.") var description: String?
    @Option(help: "Your own id for the customer.") var externalId: String?

    var details: CalypsoCustomerDetails {
        CalypsoCustomerDetails(email: email, description: description, externalId: externalId)
    }
}

struct CustomerCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a customer.")
    @OptionGroup var options: CustomerOptions
    @OptionGroup var details: CustomerDetailOptions

    func run() async throws {
        let details = details.details
        try await options.change({ try await $0.createCustomer(details) }, verb: "created")
    }
}

struct CustomerUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Update a customer's details.")
    @OptionGroup var options: CustomerOptions
    @Argument(help: "The Calypso customer id.") var customerId: String
    @OptionGroup var details: CustomerDetailOptions

    func run() async throws {
        let details = details.details
        try await options.change({ try await $0.updateCustomer(id: customerId, details) }, verb: "updated")
    }
}

struct CustomerBlock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "block",
        abstract: "Block a customer: its later deposits are held, not credited."
    )
    @OptionGroup var options: CustomerOptions
    @Argument(help: "The Calypso customer id.") var customerId: String

    func run() async throws {
        // The event carries the state Calypso accepted, not its echo of the flag: an answer without `blocked`
        // reads as `false`, and publishing that after a block would release the customer's deposits.
        try await options.change({ customer in
            var blocked = try await customer.blockCustomer(id: customerId)
            blocked.blocked = true
            return blocked
        }, verb: "blocked")
    }
}

struct CustomerUnblock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unblock", abstract: "Unblock a customer.")
    @OptionGroup var options: CustomerOptions
    @Argument(help: "The Calypso customer id.") var customerId: String

    func run() async throws {
        try await options.change({ customer in
            var unblocked = try await customer.unblockCustomer(id: customerId)
            unblocked.blocked = false
            return unblocked
        }, verb: "unblocked")
    }
}

struct CustomerAddress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get-address",
        abstract: "Print the customer's current deposit address for a currency."
    )
    @OptionGroup var options: CustomerOptions
    @Argument(help: "The Calypso customer id.") var customerId: String
    @Option(help: "The currency, e.g. USDT_TRC20.") var currency: String

    struct Address: Codable, Equatable {
        var customerId: String
        var currency: String
        var purseId: String
        var address: String
    }

    func run() async throws {
        let purse = try await options.withCalypso { try await $0.address(customerId: customerId, currency: currency) }
        let address = Address(customerId: customerId, currency: currency, purseId: purse.id, address: purse.address)
        let context = OperatorContext.current
        context.write(options.json ? try JSONOutput.text(address) : address.address)
    }
}

extension KafkaOptions {
    /// Runs `body` with a Calypso client built from the shared configuration, then closes it. The
    /// commands call Calypso one request at a time, so two connections are plenty.
    func withCalypso<T>(_ body: (CalypsoClient) async throws -> T) async throws -> T {
        let client: CalypsoClient
        do {
            client = try configuration().calypso.makeClient(maximumConnections: 2, logger: OperatorContext.logger)
        } catch let error as OperatorError {
            throw error
        } catch {
            throw OperatorError("\(error)")
        }
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
