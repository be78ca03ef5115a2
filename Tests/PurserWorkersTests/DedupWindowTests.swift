import Foundation
import PurserSchema
import PurserWorkers
import Testing

@Suite struct DedupWindowTests {
    static let hour: Int64 = 3_600_000

    @Test func theFirstClaimWinsAndOtherRecordsAreDuplicates() {
        var window = DedupWindow()
        #expect(window.claim("tx-1", inputOffset: 10, atMilliseconds: 0) == .first)
        #expect(window.claim("tx-1", inputOffset: 11, atMilliseconds: 1) == .duplicate)
        #expect(window.claim("tx-1", inputOffset: 3, atMilliseconds: 2) == .duplicate)
        #expect(window.claim("tx-2", inputOffset: 12, atMilliseconds: 3) == .first)
        #expect(window.count == 2)
    }

    @Test func theClaimingRecordRunAgainMayEmitAgain() {
        var window = DedupWindow()
        #expect(window.claim("tx-1", inputOffset: 10, atMilliseconds: 0) == .first)
        #expect(window.claim("tx-1", inputOffset: 10, atMilliseconds: 5) == .sameRecord)
    }

    @Test func keysRebuiltFromOutputAreDuplicatesForEveryRecord() {
        var window = DedupWindow()
        window.recordEmitted("tx-1", atMilliseconds: 0)
        #expect(window.claim("tx-1", inputOffset: 0, atMilliseconds: 1) == .duplicate)
        #expect(window.claim("tx-1", inputOffset: 7, atMilliseconds: 1) == .duplicate)
    }

    @Test func aClaimSeenInTheOutputNoLongerLetsItsRecordEmitAgain() {
        var window = DedupWindow()
        #expect(window.claim("tx-1", inputOffset: 4, atMilliseconds: 0) == .first)
        window.recordEmitted("tx-1", atMilliseconds: 0)
        #expect(window.claim("tx-1", inputOffset: 4, atMilliseconds: 1) == .duplicate)
    }

    /// A record can come back as long as an upstream topic or a dead letter keeps it, and then flows
    /// through every later worker again: the default horizon must outlast all of them, and the outputs
    /// a window is rebuilt from must outlast the horizon.
    @Test func theDefaultHorizonOutlastsEveryWayARecordCanComeBack() throws {
        let topicsDirectory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("topics")
        let catalog = try TopicCatalog.load(from: topicsDirectory)
        let horizon = DedupWindow.Limits().horizon
        func retention(_ topic: TopicDeclaration) throws -> Duration {
            let milliseconds = try #require(topic.configs["retention.ms"].flatMap { Int64($0) }, "\(topic.name) has no retention")
            return .milliseconds(milliseconds)
        }
        // A worker's inputs (a worker reading its own output only rebuilds its state from it) and the dead letters.
        let replayable = catalog.topics.filter { topic in
            let isWorkerInput = topic.consumers.contains { $0.hasPrefix("purser-") && !topic.producers.contains($0) }
            return topic.configs["cleanup.policy"] != "compact" && (isWorkerInput || topic.name.hasPrefix("purser.dlq."))
        }
        #expect(replayable.count >= 7, "the worker inputs and the four dead-letter topics")
        for topic in replayable {
            #expect(try retention(topic) <= horizon, "\(topic.name) keeps records longer than the dedup horizon")
        }
        for name in ["deposits.credited.v1", "deposits.held.v1", "deposits.declined.v1", "purses.renewed.v1"] {
            let topic = try #require(catalog.topics.first { $0.name == name })
            #expect(try retention(topic) >= horizon, "\(name) is rebuilt from but keeps less than the horizon")
        }
    }

    @Test func entriesOlderThanTheHorizonAreForgotten() {
        var limits = DedupWindow.Limits()
        limits.horizon = .seconds(3600)
        var window = DedupWindow(limits: limits)
        window.recordEmitted("old", atMilliseconds: 0)
        window.recordEmitted("recent", atMilliseconds: Self.hour / 2)
        #expect(window.claim("new", inputOffset: 1, atMilliseconds: Self.hour + 1) == .first)
        #expect(!window.contains("old"))
        #expect(window.contains("recent"))
        #expect(window.count == 2)
    }

    /// A rebuild reads one output topic after another: an old key of the second must not be kept behind the
    /// recent keys of the first.
    @Test func aRebuiltKeyAlreadyBeyondTheHorizonIsNotKept() {
        var limits = DedupWindow.Limits()
        limits.horizon = .seconds(3600)
        var window = DedupWindow(limits: limits)
        window.recordEmitted("approved-recently", atMilliseconds: 10 * Self.hour)
        window.recordEmitted("held-long-ago", atMilliseconds: Self.hour)
        window.recordEmitted("held-recently", atMilliseconds: 10 * Self.hour - Self.hour / 2)
        #expect(!window.contains("held-long-ago"))
        #expect(window.contains("held-recently"))
        #expect(window.count == 2)
    }

    @Test func theEntryCountNeverExceedsTheLimit() {
        var limits = DedupWindow.Limits()
        limits.maxEntries = 100
        var window = DedupWindow(limits: limits)
        for index in 0..<10_000 {
            #expect(window.claim("tx-\(index)", inputOffset: Int64(index), atMilliseconds: Int64(index)) == .first)
            #expect(window.count <= 100)
        }
        #expect(window.count == 100)
        #expect(window.contains("tx-9999"))
        #expect(window.contains("tx-9900"))
        #expect(!window.contains("tx-9899"))
    }
}

@Suite struct DedupWindowPeekTests {
    @Test func peekAnswersLikeClaimWithoutClaiming() {
        var window = DedupWindow()
        #expect(window.peek("tx-1", inputOffset: 1) == .first)
        #expect(window.peek("tx-1", inputOffset: 1) == .first)
        #expect(!window.contains("tx-1"))
        #expect(window.claim("tx-1", inputOffset: 1, atMilliseconds: 0) == .first)
        #expect(window.peek("tx-1", inputOffset: 1) == .sameRecord)
        #expect(window.peek("tx-1", inputOffset: 2) == .duplicate)
    }
}

@Suite struct DedupWindowReleaseTests {
    @Test func aReleasedClaimLetsTheNextRecordWithTheKeyEmit() {
        var window = DedupWindow()
        #expect(window.claim("tx-1", inputOffset: 10, atMilliseconds: 0) == .first)
        #expect(window.release("tx-1", inputOffset: 10) == true)
        #expect(!window.contains("tx-1"))
        #expect(window.claim("tx-1", inputOffset: 42, atMilliseconds: 1) == .first, "the redriven record acts")
        #expect(window.claim("tx-1", inputOffset: 10, atMilliseconds: 2) == .duplicate)
    }

    @Test func onlyTheClaimingRecordReleases() {
        var window = DedupWindow()
        #expect(window.claim("tx-1", inputOffset: 10, atMilliseconds: 0) == .first)
        #expect(window.release("tx-1", inputOffset: 11) == false)
        #expect(window.release("tx-2", inputOffset: 10) == false)
        #expect(window.claim("tx-1", inputOffset: 12, atMilliseconds: 1) == .duplicate)
    }

    @Test func aKeySeenInTheOutputIsNeverReleased() {
        var window = DedupWindow()
        window.recordEmitted("rebuilt", atMilliseconds: 0)
        #expect(window.release("rebuilt", inputOffset: 0) == false)
        #expect(window.claim("claimed", inputOffset: 5, atMilliseconds: 0) == .first)
        window.recordEmitted("claimed", atMilliseconds: 0)
        #expect(window.release("claimed", inputOffset: 5) == false, "its output was confirmed written")
        #expect(window.claim("rebuilt", inputOffset: 6, atMilliseconds: 1) == .duplicate)
        #expect(window.claim("claimed", inputOffset: 7, atMilliseconds: 1) == .duplicate)
    }

    @Test func aKeyClaimedAgainAfterReleaseKeepsItsNewPlaceInTheEvictionOrder() {
        var limits = DedupWindow.Limits()
        limits.maxEntries = 3
        var window = DedupWindow(limits: limits)
        #expect(window.claim("a", inputOffset: 0, atMilliseconds: 0) == .first)
        #expect(window.release("a", inputOffset: 0) == true)
        #expect(window.claim("b", inputOffset: 1, atMilliseconds: 1) == .first)
        #expect(window.claim("c", inputOffset: 2, atMilliseconds: 2) == .first)
        #expect(window.claim("a", inputOffset: 3, atMilliseconds: 3) == .first)
        #expect(window.claim("d", inputOffset: 4, atMilliseconds: 4) == .first)
        #expect(window.count == 3)
        #expect(!window.contains("b"), "the oldest insertion goes first")
        #expect(window.contains("a"))
    }
}
