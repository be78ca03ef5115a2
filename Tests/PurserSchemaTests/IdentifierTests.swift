import Foundation
import Testing

@testable import PurserSchema

@Suite struct IdentifierTests {
    /// Vectors computed with Python's `uuid.uuid5`, an independent RFC 4122 implementation.
    @Test(arguments: [
        ("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org", "886313e1-3b8a-5372-9b90-0c9aee199e5d"),
        ("6ba7b811-9dad-11d1-80b4-00c04fd430c8", "https://example.com/a", "6639460f-3425-5329-8097-a58f06127860"),
    ])
    func version5MatchesKnownVectors(namespace: String, name: String, expected: String) throws {
        let namespace = try #require(UUID(uuidString: namespace))
        #expect(UUID.version5(namespace: namespace, name: name).lowercasedString == expected)
    }

    @Test func lowercaseTextIsFoundationsTextLowercased() {
        for _ in 0..<1000 {
            let uuid = UUID()
            #expect(uuid.lowercasedString == uuid.uuidString.lowercased())
        }
    }

    @Test func eventIdsAreDeterministicPerTypeAndKey() {
        let credited = EventID.deterministic(type: .depositCredited, key: "tx-1")
        #expect(credited == EventID.deterministic(type: .depositCredited, key: "tx-1"))
        #expect(credited != EventID.deterministic(type: .depositHeld, key: "tx-1"))
        #expect(credited != EventID.deterministic(type: .depositCredited, key: "tx-2"))
        #expect(
            credited
                == UUID.version5(namespace: EventID.purserNamespace, name: "deposit.credited:tx-1").lowercasedString
        )
        let characters = Array(credited)
        #expect(characters[14] == "5")
        #expect("89ab".contains(characters[19]))
        #expect(credited == credited.lowercased())
    }

    @Test func randomIdsDiffer() {
        #expect(EventID.random() != EventID.random())
    }

    @Test func traceParentsKeepTheTraceAcrossHops() throws {
        let root = TraceParent.random()
        #expect(root.isValid)
        let child = root.childSpan()
        #expect(child.isValid)
        #expect(child.traceID == root.traceID)
        #expect(child != root)
        #expect(TraceParent.random().traceID != root.traceID)
        let unsampled = TraceParent(rawValue: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")
        #expect(unsampled.childSpan().rawValue.hasSuffix("-00"), "the caller's sampling decision is kept")
    }

    @Test func randomTraceParentsAreValidAndDistinct() {
        let traces = (0..<1000).map { _ in TraceParent.random() }
        #expect(traces.allSatisfy { $0.isValid })
        #expect(Set(traces.compactMap(\.traceID)).count == traces.count)
        // Every hex digit shows up in every position of the trace id: the bytes are not stuck.
        for position in 0..<32 {
            let digits = Set(traces.compactMap { $0.traceID.map { Array($0)[position] } })
            #expect(digits.count == 16, "position \(position)")
        }
    }

    @Test(arguments: [
        "",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
        "00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319cb-7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-",
        "00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c8031é-b7ad6b7169203331-01",
    ])
    func malformedTraceParentsAreKeptButInvalid(text: String) {
        let trace = TraceParent(rawValue: text)
        #expect(!trace.isValid)
        #expect(trace.rawValue == text)
        #expect(trace.childSpan().isValid)
    }

    @Test func aValidTraceParentIsRecognised() {
        let trace = TraceParent(rawValue: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(trace.isValid)
        #expect(trace.traceID == "0af7651916cd43dd8448eb211c80319c")
    }
}
