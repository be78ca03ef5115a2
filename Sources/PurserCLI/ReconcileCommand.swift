import ArgumentParser
import Calypso
import PurserJSON
import PurserKafka
import PurserSchema

/// `purser reconcile --since DURATION [--repair] [--json]`: Calypso's confirmed deposits against what
/// Purser published.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare Calypso's confirmed transactions with deposits.credited and deposits.held.",
        discussion: """
            Customers: those on purser.customers.v1 and those seen on the deposit topics. Missing: confirmed \
            at Calypso since DURATION ago, neither credited nor held. Unexpected: credited or held since then, \
            not a confirmed transaction at Calypso. With --repair, each missing transaction is fed back as a \
            synthetic calypso.webhook.received (keyId and subscriptionId "\(origin)", extension \
            \(originAttribute)=\(origin)) whose id depends on the transaction only, so the pipeline credits \
            it once however often reconcile repairs.
            """
    )

    /// Marks the webhooks `--repair` publishes.
    static let origin = "reconciliation"
    /// The CloudEvents extension attribute that carries ``origin``.
    static let originAttribute = "purserorigin"
    static let source = "purser-reconcile"
    /// `transaction/find` page size.
    static let pageSize = 100

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "How far back to compare, e.g. 24h, 7d.")
    var since: DurationArgument

    @Flag(help: "Publish a synthetic webhook for each missing transaction.")
    var repair = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    struct Transaction: Codable, Equatable {
        var transactionId: String
        var customerId: String
        var currency: String
        var amount: String
        var createdDate: String
    }

    struct Unexpected: Codable, Equatable {
        var transactionId: String
        var customerId: String
        var topic: String
        var eventID: String
    }

    struct Repaired: Codable, Equatable {
        var transactionId: String
        var eventID: String
        var topic: String
        var partition: Int32
        var offset: Int64
    }

    struct Report: Codable, Equatable {
        var since: String
        var customers: Int
        /// Confirmed transactions at Calypso in the window.
        var confirmed: Int
        var missing: [Transaction]
        var unexpected: [Unexpected]
        var repaired: [Repaired]
    }

    /// A deposit event Purser published.
    private struct Published {
        var customerId: String
        var topic: String
        var eventID: String
        var time: Timestamp?
    }

    func run() async throws {
        let context = OperatorContext.current
        let cluster = try await OperatorKafka.connect(kafka)
        let topics = cluster.configuration.topics
        let cutoff = Timestamp(millisecondsSince1970: Timestamp.now.millisecondsSince1970 - since.milliseconds)

        var customers = Set<String>()
        for record in try await cluster.readAll(topics.customers) {
            if let customer = record.key.map({ String(decoding: $0, as: UTF8.self) }), !customer.isEmpty {
                customers.insert(customer)
            }
        }
        // Customers whose deposits arrived but never got as far as a decision (dead-lettered, say), when they
        // are not on the customers topic. The payload's customer, not the key: a webhook without one is keyed
        // by its subscription.
        for record in try await cluster.readAll(topics.webhooks) {
            if let value = record.value, let event = try? CloudEventEnvelope(recordValue: value),
                let customer = event.data?["payload"]?["customerId"]?.stringValue, !customer.isEmpty
            {
                customers.insert(customer)
            }
        }
        var published: [String: Published] = [:]
        for topic in [topics.depositsCredited, topics.depositsHeld] {
            for record in try await cluster.readAll(topic) {
                guard let value = record.value, let event = try? CloudEventEnvelope(recordValue: value),
                    let transactionID = event.data?["transactionId"]?.stringValue, let customer = event.subject
                else { continue }
                customers.insert(customer)
                published[transactionID] = Published(
                    customerId: customer,
                    topic: topic,
                    eventID: event.id,
                    time: event.time
                )
            }
        }
        for record in try await cluster.readAll(topics.depositsDeclined) {
            if let customer = record.value.flatMap({ try? CloudEventEnvelope(recordValue: $0) })?.subject {
                customers.insert(customer)
            }
        }

        context.progress("reconciling \(customers.count) customer(s) with Calypso since \(cutoff)")
        let confirmed = try await kafka.withCalypso { client in
            var all: [CalypsoTransaction] = []
            for (index, customer) in customers.sorted().enumerated() {
                all += try await Self.confirmedTransactions(of: customer, client: client)
                if (index + 1) % 50 == 0 { context.progress("\(index + 1) of \(customers.count) customers checked") }
            }
            return all
        }
        let confirmedIDs = Set(confirmed.map(\.id))
        let inWindow = confirmed.filter { Self.createdAt($0.createdDate).map { $0 >= cutoff } ?? true }
        let missing = inWindow.filter { published[$0.id] == nil }.sorted {
            ($0.createdDate, $0.id) < ($1.createdDate, $1.id)
        }
        let unexpected = published.filter { id, event in
            !confirmedIDs.contains(id) && (event.time.map { $0 >= cutoff } ?? true)
        }
        .map {
            Unexpected(
                transactionId: $0.key,
                customerId: $0.value.customerId,
                topic: $0.value.topic,
                eventID: $0.value.eventID
            )
        }
        .sorted { $0.transactionId < $1.transactionId }

        var repaired: [Repaired] = []
        if repair, !missing.isEmpty {
            let webhooks = missing.map { Self.syntheticWebhook(for: $0) }
            let reports = try await cluster.publish(webhooks.map { OperatorKafka.record($0, topic: topics.webhooks) })
            repaired = zip(zip(missing, webhooks), reports).map { pair, report in
                Repaired(
                    transactionId: pair.0.id,
                    eventID: pair.1.id,
                    topic: report.topic,
                    partition: report.partition,
                    offset: report.offset
                )
            }
        }

        let report = Report(
            since: cutoff.description,
            customers: customers.count,
            confirmed: inWindow.count,
            missing: missing.map {
                Transaction(
                    transactionId: $0.id,
                    customerId: $0.customerId ?? "",
                    currency: $0.currency,
                    amount: $0.amount.description,
                    createdDate: $0.createdDate
                )
            },
            unexpected: unexpected,
            repaired: repaired
        )
        context.write(json ? try JSONOutput.text(report) : Self.text(report))
    }

    /// Every confirmed transaction of `customer`, page by page.
    static func confirmedTransactions(of customer: String, client: CalypsoClient) async throws -> [CalypsoTransaction] {
        let transactions = try await allPages(of: customer) { page in
            try await client.findTransactions(
                CalypsoTransactionQuery(
                    customerId: customer,
                    transactionStateFilter: .init(equals: TransactionState.confirmed.rawValue),
                    pageNumber: page,
                    pageSize: pageSize,
                    sort: "ASC",
                    properties: "createdDate"
                )
            )
        }
        return transactions.filter { $0.transactionState == .confirmed }.map { transaction in
            var transaction = transaction
            transaction.customerId = transaction.customerId ?? customer
            return transaction
        }
    }

    /// Every transaction of a paged answer. Calypso does not document whether pages start at 0 or 1, so pages
    /// are read from 0 up to its page count until as many distinct transactions as its `totalElements` are in;
    /// fewer is an error rather than a report that silently misses the last page.
    static func allPages(
        of customer: String,
        _ fetch: (_ pageNumber: Int) async throws -> CalypsoTransactionPage
    ) async throws -> [CalypsoTransaction] {
        var transactions: [CalypsoTransaction] = []
        var seen = Set<String>()
        var page = 0
        var answer: CalypsoTransactionPage
        repeat {
            answer = try await fetch(page)
            for transaction in answer.result where seen.insert(transaction.id).inserted { transactions.append(transaction) }
            if transactions.count >= answer.totalElements { return transactions }
            page += 1
        } while page <= answer.total
        throw OperatorError(
            "Calypso counted \(answer.totalElements) transaction(s) of customer \(customer) but its \(answer.total) page(s) held \(transactions.count)"
        )
    }

    /// Calypso's `createdDate`, which may lack a zone (then it is UTC).
    static func createdAt(_ text: String) -> Timestamp? {
        (try? Timestamp(rfc3339: text)) ?? (try? Timestamp(rfc3339: text + "Z"))
    }

    /// The `calypso.webhook.received` Calypso would have sent when the deposit was confirmed.
    static func syntheticWebhook(for transaction: CalypsoTransaction) -> CloudEventEnvelope {
        var payload: JSONObject = [
            "transactionId": .string(transaction.id),
            "customerId": .string(transaction.customerId ?? ""),
            "purseId": .string(transaction.purseId ?? ""),
            "address": .string(transaction.address ?? ""),
            "currency": .string(transaction.currency),
            "amount": .number(transaction.amount.description),
            "transactionState": .string(transaction.transactionState.rawValue),
            "complianceState": .string(transaction.complianceState.rawValue),
            "translationToAccountCompleted": .bool(transaction.translationToAccountCompleted),
            "createdDate": .string(transaction.createdDate),
        ]
        payload["transactionHash"] = transaction.transactionHash.map(JSONValue.string)
        payload["addressFrom"] = transaction.addressFrom.map(JSONValue.string)
        let webhook = WebhookReceived(
            eventId: "\(origin)-\(transaction.id)",
            eventType: .fundsReceived,
            subscriptionId: origin,
            createdDate: transaction.createdDate,
            level: .info,
            service: "CUSTOMER_PURSE",
            receivedAt: .now,
            keyId: origin,
            payload: .object(payload)
        )
        var event = CloudEvent(data: webhook, source: source, traceparent: .random()).envelope()
        event.extensions[originAttribute] = .string(origin)
        return event
    }

    static func text(_ report: Report) -> String {
        var lines = [
            "\(report.customers) customer(s), \(report.confirmed) confirmed transaction(s) at Calypso "
                + "since \(report.since)"
        ]
        lines.append("missing (confirmed, neither credited nor held): \(report.missing.count)")
        if !report.missing.isEmpty {
            lines.append(
                TextTable.render(
                    header: ["TRANSACTION", "CUSTOMER", "AMOUNT", "CURRENCY", "CREATED"],
                    rows: report.missing.map {
                        [$0.transactionId, $0.customerId, $0.amount, $0.currency, $0.createdDate]
                    }
                )
            )
        }
        lines.append("unexpected (credited or held, not confirmed at Calypso): \(report.unexpected.count)")
        if !report.unexpected.isEmpty {
            lines.append(
                TextTable.render(
                    header: ["TRANSACTION", "CUSTOMER", "TOPIC", "EVENT"],
                    rows: report.unexpected.map { [$0.transactionId, $0.customerId, $0.topic, $0.eventID] }
                )
            )
        }
        if !report.repaired.isEmpty {
            lines.append(
                "repaired: published \(report.repaired.count) synthetic webhook(s) to \(report.repaired[0].topic)"
            )
        }
        return lines.joined(separator: "\n")
    }
}
