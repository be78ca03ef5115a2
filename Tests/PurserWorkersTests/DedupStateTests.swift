import PurserWorkers
import Testing

@Suite struct DedupStateTests {
    @Test func claimsAreKeptPerPartitionAndRebuiltOnLoad() async throws {
        let state = DedupState()
        try await state.load(partition: 0) { window in window.recordEmitted("tx-a", atMilliseconds: 0) }
        try await state.load(partition: 1) { _ in }

        #expect(try state.claim("tx-a", partition: 0, inputOffset: 5, atMilliseconds: 1) == .duplicate)
        #expect(try state.claim("tx-b", partition: 0, inputOffset: 6, atMilliseconds: 1) == .first)
        #expect(try state.claim("tx-c", partition: 1, inputOffset: 0, atMilliseconds: 1) == .first)
        #expect(state.count == 3)
    }

    @Test func aRevokedPartitionRefusesClaimsAndFreesItsKeys() async throws {
        let state = DedupState()
        try await state.load(partition: 2) { _ in }
        #expect(try state.claim("tx-a", partition: 2, inputOffset: 0, atMilliseconds: 0) == .first)

        state.drop(partition: 2)
        #expect(state.count == 0)
        #expect(throws: DedupState.PartitionNotReady.self) {
            try state.claim("tx-a", partition: 2, inputOffset: 1, atMilliseconds: 0)
        }
    }

    @Test func aFailedLoadLeavesThePartitionUnready() async throws {
        struct ReadFailed: Error {}
        let state = DedupState()
        await #expect(throws: ReadFailed.self) {
            try await state.load(partition: 0) { window in
                window.recordEmitted("tx-a", atMilliseconds: 0)
                throw ReadFailed()
            }
        }
        #expect(throws: DedupState.PartitionNotReady.self) {
            try state.claim("tx-a", partition: 0, inputOffset: 0, atMilliseconds: 0)
        }
    }
}
