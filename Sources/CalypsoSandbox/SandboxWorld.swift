import Calypso
import Foundation
import PurserJSON
import PurserSchema
import Synchronization

/// A webhook the world wants sent: its type, its `data` object and, for a deposit step, which
/// step `transaction/get` shows once the webhook goes out.
struct SandboxEvent: Sendable {
    var type: WebhookEventType
    var data: JSONValue
    var step: StepReference?
}

/// The `index`-th step of deposit `transactionId`.
struct StepReference: Sendable, Hashable {
    var transactionId: String
    var index: Int
}

/// Calypso's customer-purse state as the sandbox keeps it: customers, one purse per customer and
/// address family, deposits with the history of what `transaction/get` shows. A plain value
/// guarded by ``CalypsoSandbox``'s lock; operations return the webhooks they cause.
struct SandboxWorld {
    struct Purse {
        var id: String
        var customerId: String
        var family: AddressFamily
        var address: String
        /// The currency the purse was issued for; listed by purse/get-all.
        var currency: String
        var status: CalypsoPurseStatus
        var createdDate: String
    }

    /// One step of a deposit as `transaction/get` shows it from `visibleAt` on; `nil` until its
    /// webhook is first sent (see ``reveal(_:at:)``).
    struct Step {
        var visibleAt: ContinuousClock.Instant?
        var state: TransactionState
        var compliance: ComplianceState
        var translated: Bool

        /// The step a deposit webhook reports, in the states Calypso documents for it.
        init(_ type: WebhookEventType, translated: Bool = false, visibleAt: ContinuousClock.Instant? = nil) {
            let states = type.documentedStates!
            self.visibleAt = visibleAt
            state = states.transaction
            compliance = states.compliance
            self.translated = translated
        }
    }

    struct Deposit {
        var transaction: CalypsoTransaction
        var steps: [Step]
        var customerBlocked: Bool
        var awaitsSettlement: Bool
        /// How long `transaction/get` trails each step's webhook.
        var apiLag: Duration
    }

    private(set) var customers: [String: CalypsoCustomer] = [:]
    private var customerOrder: [String] = []
    private var purses: [String: Purse] = [:]
    private var purseOrder: [String] = []
    /// The active purse of each customer and address family.
    private var activePurses: [String: String] = [:]
    private var deposits: [String: Deposit] = [:]
    private var depositOrder: [String] = []
    private var random: SeededRandom

    init(seed: UInt64) {
        random = SeededRandom(seed: seed)
    }

    /// A fresh 32-hex-digit key pair, as Calypso issues for webhook subscriptions.
    mutating func makeKeyPair() -> CalypsoKeyPair {
        CalypsoKeyPair(key: random.hex(32), secret: random.hex(32))
    }

    // MARK: Customers

    mutating func createCustomer(_ details: CalypsoCustomerDetails) -> CalypsoCustomer {
        let customer = CalypsoCustomer(
            id: random.uuid(),
            email: details.email,
            description: details.description,
            externalId: details.externalId,
            blocked: false
        )
        customers[customer.id] = customer
        customerOrder.append(customer.id)
        return customer
    }

    /// Replaces the fields given; fields left out keep their value.
    mutating func updateCustomer(id: String, _ details: CalypsoCustomerDetails) throws(SandboxError) -> CalypsoCustomer
    {
        var customer = try self.customer(id)
        customer.email = details.email ?? customer.email
        customer.description = details.description ?? customer.description
        customer.externalId = details.externalId ?? customer.externalId
        customers[id] = customer
        return customer
    }

    mutating func setBlocked(_ blocked: Bool, customerId: String) throws(SandboxError) -> CalypsoCustomer {
        var customer = try self.customer(customerId)
        customer.blocked = blocked
        customers[customerId] = customer
        return customer
    }

    func customer(_ id: String) throws(SandboxError) -> CalypsoCustomer {
        guard let customer = customers[id] else { throw .notFound("customer \(id) not found") }
        return customer
    }

    // MARK: Purses

    /// The customer's active purse for the currency's address family, issuing a new purse and
    /// address when there is none (first call, or the last one expired or was declined).
    mutating func address(customerId: String, currency: String, now: Date) throws(SandboxError) -> CalypsoPurseAddress {
        _ = try customer(customerId)
        guard let family = AddressFamily(currency: currency) else {
            throw .badRequest("unsupported currency \(currency)")
        }
        let key = Self.activeKey(customerId, family)
        if let id = activePurses[key], let purse = purses[id] {
            return CalypsoPurseAddress(id: purse.id, address: purse.address)
        }
        let purse = Purse(
            id: random.uuid(),
            customerId: customerId,
            family: family,
            address: family.makeAddress(using: &random),
            currency: currency,
            status: .pendingPayment,
            createdDate: SandboxDate.iso(now)
        )
        purses[purse.id] = purse
        purseOrder.append(purse.id)
        activePurses[key] = purse.id
        return CalypsoPurseAddress(id: purse.id, address: purse.address)
    }

    func purses(customerId: String) throws(SandboxError) -> [CalypsoPurse] {
        _ = try customer(customerId)
        return purseOrder.compactMap { purses[$0] }.filter { $0.customerId == customerId }.map {
            CalypsoPurse(
                id: $0.id,
                address: $0.address,
                currency: $0.currency,
                status: $0.status,
                createdDate: $0.createdDate
            )
        }
    }

    /// Archives an active purse and reports `CUSTOMER_PURSE_EXPIRED`.
    mutating func expirePurse(id: String) throws(SandboxError) -> (CalypsoPurseAddress, SandboxEvent) {
        guard var purse = purses[id] else { throw .notFound("purse \(id) not found") }
        guard purse.status == .pendingPayment else { throw .badRequest("purse \(id) is \(purse.status), not active") }
        purse.status = .archived
        purses[id] = purse
        activePurses[Self.activeKey(purse.customerId, purse.family)] = nil
        let customer = customers[purse.customerId]
        // Exactly Calypso's documented fields: no currency (the purse renewer finds it with purse/get-all).
        let event = SandboxEvent(
            type: .purseExpired,
            data: [
                "customerId": .string(purse.customerId), "customerBlocked": .bool(customer?.blocked ?? false),
                "purseId": .string(purse.id), "address": .string(purse.address),
            ]
        )
        return (CalypsoPurseAddress(id: purse.id, address: purse.address), event)
    }

    /// The active purse of a customer for a currency, for expiring it by customer.
    func activePurseId(customerId: String, currency: String) throws(SandboxError) -> String {
        guard let family = AddressFamily(currency: currency) else {
            throw .badRequest("unsupported currency \(currency)")
        }
        guard let id = activePurses[Self.activeKey(customerId, family)] else {
            throw .notFound("customer \(customerId) has no active purse for \(currency)")
        }
        return id
    }

    private static func activeKey(_ customerId: String, _ family: AddressFamily) -> String {
        customerId + "/" + family.rawValue
    }

    // MARK: Deposits

    /// Records a deposit to the customer's active address for its currency and returns the
    /// webhooks of every step up to where ``SandboxDeposit/settlement`` stops.
    mutating func deposit(
        _ request: SandboxDeposit,
        apiLag: Duration,
        now: Date,
        instant: ContinuousClock.Instant
    ) throws(SandboxError) -> (SandboxDepositReceipt, [SandboxEvent]) {
        let customer = try self.customer(request.customerId)
        let purseId = try activePurseId(customerId: request.customerId, currency: request.currency)
        guard var purse = purses[purseId] else { throw .notFound("purse \(purseId) not found") }
        guard !request.amount.isZero else {
            throw .badRequest("amount must be positive")
        }
        var steps: [(type: WebhookEventType, translated: Bool)] = []
        if request.includesMempoolEvent { steps.append((.memPoolFound, false)) }
        steps.append((.pendingCompliance, false))
        switch request.outcome {
        case .confirmed:
            steps.append((.fundsReceived, false))
            if request.settlement == .now { steps.append((.translationToAccountCompleted, true)) }
        case .declined:
            steps.append((.complianceDeclined, false))
            purse.status = .declined
            purses[purseId] = purse
            activePurses[Self.activeKey(purse.customerId, purse.family)] = nil
        }
        let first = Step(steps[0].type, translated: steps[0].translated)
        let transaction = CalypsoTransaction(
            id: random.uuid(),
            amount: request.amount,
            currency: request.currency,
            addressFrom: request.addressFrom ?? purse.family.makeAddress(using: &random),
            transactionHash: purse.family.makeTransactionHash(using: &random),
            transactionState: first.state,
            complianceState: first.compliance,
            translationToAccountCompleted: first.translated,
            createdDate: SandboxDate.iso(now),
            customerId: customer.id,
            purseId: purse.id,
            address: purse.address
        )
        // The first state is visible at once; later ones when their webhook goes out, plus `apiLag`.
        let deposit = Deposit(
            transaction: transaction,
            steps: steps.enumerated().map { index, step in
                Step(step.type, translated: step.translated, visibleAt: index == 0 ? instant : nil)
            },
            customerBlocked: customer.blocked,
            awaitsSettlement: request.outcome == .confirmed && request.settlement == .later,
            apiLag: apiLag
        )
        deposits[transaction.id] = deposit
        depositOrder.append(transaction.id)
        let receipt = SandboxDepositReceipt(transactionId: transaction.id, purseId: purse.id, address: purse.address)
        let events = deposit.steps.indices.map { index in event(steps[index].type, for: deposit, stepIndex: index) }
        return (receipt, events)
    }

    /// Credits a deposit made with ``SandboxDeposit/Settlement/later`` and reports
    /// `…_TRANSLATION_TO_ACCOUNT_COMPLETED`.
    mutating func settle(transactionId: String) throws(SandboxError) -> SandboxEvent {
        guard var deposit = deposits[transactionId] else {
            throw .notFound("transaction \(transactionId) not found")
        }
        guard deposit.awaitsSettlement else {
            throw .badRequest("transaction \(transactionId) does not await settlement")
        }
        deposit.steps.append(Step(.translationToAccountCompleted, translated: true))
        deposit.awaitsSettlement = false
        deposits[transactionId] = deposit
        return event(.translationToAccountCompleted, for: deposit, stepIndex: deposit.steps.count - 1)
    }

    /// Makes a step visible to `transaction/get`, `apiLag` after its webhook first went out.
    /// Later calls for the same step (retries, other subscriptions) change nothing.
    mutating func reveal(_ reference: StepReference, at instant: ContinuousClock.Instant) {
        guard let deposit = deposits[reference.transactionId], deposit.steps.indices.contains(reference.index),
            deposit.steps[reference.index].visibleAt == nil
        else { return }
        deposits[reference.transactionId]?.steps[reference.index].visibleAt = instant + deposit.apiLag
    }

    private func event(_ type: WebhookEventType, for deposit: Deposit, stepIndex: Int) -> SandboxEvent {
        let transaction = deposit.transaction
        let step = deposit.steps[stepIndex]
        let data: JSONObject = [
            "customerId": .string(transaction.customerId ?? ""), "customerBlocked": .bool(deposit.customerBlocked),
            "purseId": .string(transaction.purseId ?? ""), "address": .string(transaction.address ?? ""),
            "currency": .string(transaction.currency), "transactionId": .string(transaction.id),
            "amount": transaction.amount.jsonNumber,
            "transactionHash": .string(transaction.transactionHash ?? ""),
            "addressFrom": .string(transaction.addressFrom ?? ""), "transactionState": .string(step.state.rawValue),
            "complianceState": .string(step.compliance.rawValue),
            "translationToAccountCompleted": .bool(step.translated), "createdDate": .string(transaction.createdDate),
        ]
        return SandboxEvent(
            type: type,
            data: .object(data),
            step: StepReference(transactionId: transaction.id, index: stepIndex)
        )
    }

    // MARK: Transactions through the API

    /// The deposit as `transaction/get` shows it at `instant`.
    func transaction(id: String, at instant: ContinuousClock.Instant) throws(SandboxError) -> CalypsoTransaction {
        guard let deposit = deposits[id] else { throw .notFound("transaction \(id) not found") }
        return Self.view(of: deposit, at: instant)
    }

    func findTransactions(_ query: CalypsoTransactionQuery, at instant: ContinuousClock.Instant) throws(SandboxError)
        -> CalypsoTransactionPage
    {
        let pageSize = query.pageSize ?? 20
        let pageNumber = query.pageNumber ?? 0
        guard (1...1000).contains(pageSize), pageNumber >= 0 else {
            throw .badRequest("pageSize must be 1...1000 and pageNumber at least 0")
        }
        var matches = depositOrder.compactMap { deposits[$0] }.map { Self.view(of: $0, at: instant) }.filter {
            (query.customerId == nil || $0.customerId == query.customerId)
                && (query.currencyFilter?.matches($0.currency) ?? true)
                && (query.transactionStateFilter?.matches($0.transactionState.rawValue) ?? true)
        }
        if query.sort?.uppercased() == "DESC" { matches.reverse() }
        let start = min(pageNumber * pageSize, matches.count)
        return CalypsoTransactionPage(
            result: Array(matches[start..<min(start + pageSize, matches.count)]),
            page: pageNumber,
            size: pageSize,
            total: (matches.count + pageSize - 1) / pageSize,
            totalElements: matches.count
        )
    }

    private static func view(of deposit: Deposit, at instant: ContinuousClock.Instant) -> CalypsoTransaction {
        var transaction = deposit.transaction
        let step = deposit.steps.last { $0.visibleAt.map { $0 <= instant } ?? false } ?? deposit.steps[0]
        transaction.transactionState = step.state
        transaction.complianceState = step.compliance
        transaction.translationToAccountCompleted = step.translated
        return transaction
    }

    // MARK: Ledger

    /// Confirmed and declined deposits per customer, whatever the API lag.
    func ledger() -> SandboxLedger {
        var entries: [String: (confirmed: [SandboxLedger.Entry], declined: [SandboxLedger.Entry])] = [:]
        for deposit in depositOrder.compactMap({ deposits[$0] }) {
            let transaction = deposit.transaction
            guard let final = deposit.steps.last, final.state.isTerminal, let customerId = transaction.customerId else {
                continue
            }
            let entry = SandboxLedger.Entry(
                transactionId: transaction.id,
                currency: transaction.currency,
                amount: transaction.amount.description,
                purseId: transaction.purseId ?? "",
                address: transaction.address ?? "",
                customerBlocked: deposit.customerBlocked,
                translationToAccountCompleted: final.translated
            )
            if final.state == .confirmed {
                entries[customerId, default: ([], [])].confirmed.append(entry)
            } else {
                entries[customerId, default: ([], [])].declined.append(entry)
            }
        }
        return SandboxLedger(
            customers: customerOrder.compactMap { customers[$0] }.map {
                SandboxLedger.Customer(
                    customerId: $0.id,
                    blocked: $0.blocked,
                    confirmed: entries[$0.id]?.confirmed ?? [],
                    declined: entries[$0.id]?.declined ?? []
                )
            }
        )
    }
}

/// Calypso's date formats.
enum SandboxDate {
    /// `2025-07-30T10:53:50.356Z`, as in `PGTransactionDTO.createdDate`.
    static func iso(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    /// `2025-10-30T14:08:39.96068`: a webhook's `createdDate`, without zone, trailing zeros dropped.
    static func webhook(_ date: Date) -> String {
        var text = String(iso(date).dropLast())
        while text.hasSuffix("0") { text.removeLast() }
        return text.hasSuffix(".") ? String(text.dropLast()) : text
    }
}

/// The world behind its lock, shared with the dispatcher, which reveals deposit steps to
/// `transaction/get` as their webhooks go out.
final class LockedWorld: Sendable {
    let state: Mutex<SandboxWorld>

    init(_ world: SandboxWorld) { state = Mutex(world) }
}
