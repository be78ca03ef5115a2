import Calypso
import PurserSchema
import Testing

@testable import PurserCLI

/// Calypso does not say whether `transaction/find` numbers pages from 0 or 1: reconcile reads every
/// transaction either way, and fails rather than report from a partial read.
@Suite struct ReconcilePagingTests {
    static let all = (0..<5).map { index in
        CalypsoTransaction(
            id: "t\(index)",
            amount: try! DecimalAmount("1"),
            currency: "ETH",
            transactionState: .confirmed,
            complianceState: .checked,
            translationToAccountCompleted: true,
            createdDate: "2026-11-25T10:00:00.000"
        )
    }

    /// Pages of 2 of ``all``, numbered from `first`; `before` is what a page number below `first` answers.
    static func server(first: Int, before: @escaping (Int) -> [CalypsoTransaction] = { _ in [] }, dropping dropped: Int = 0)
        -> (Int) -> CalypsoTransactionPage
    {
        let served = Array(all.dropLast(dropped))
        return { page in
            let index = page - first
            let result = index < 0 ? before(page) : Array(served.dropFirst(index * 2).prefix(2))
            return CalypsoTransactionPage(result: result, page: page, size: 2, total: 3, totalElements: all.count)
        }
    }

    @Test("pages from 0, from 1 with an empty page 0, and from 1 answering page 0 like page 1")
    func everyNumberingYieldsEveryTransactionOnce() async throws {
        for fetch in [Self.server(first: 0), Self.server(first: 1), Self.server(first: 1, before: { _ in Array(Self.all.prefix(2)) })] {
            let read = try await ReconcileCommand.allPages(of: "c") { fetch($0) }
            #expect(read.map(\.id) == Self.all.map(\.id))
        }
    }

    @Test func fewerTransactionsThanCalypsoCountedIsAnError() async throws {
        let fetch = Self.server(first: 0, dropping: 1)
        await #expect {
            try await ReconcileCommand.allPages(of: "c") { fetch($0) }
        } throws: { error in
            "\(error)" == "Calypso counted 5 transaction(s) of customer c but its 3 page(s) held 4"
        }
    }
}
