import Foundation

/// CloudEvents ids.
///
/// An event that is a function of its input gets a **deterministic** id: the UUIDv5 in
/// ``purserNamespace`` of the name `"<event type>:<key>"`, where the key is the input that
/// identifies the event (e.g. `deposit.credited:<Calypso transaction id>`). A replayed or
/// redelivered input then yields the same id, and consumers deduplicate on it. Each message type
/// names its key in ``EventData/idempotencyKey``; an event without one gets a random UUIDv4.
public enum EventID {
    /// The UUIDv5 namespace of every deterministic Purser event id. Never change it: consumers
    /// deduplicate on ids made with it.
    public static let purserNamespace = UUID(uuidString: "02c3a102-ca0a-4a5c-856a-80c9b96673ad")!

    /// The deterministic id of the event of `type` identified by `key`.
    public static func deterministic(type: EventType, key: String) -> String {
        UUID.version5(namespace: purserNamespace, name: "\(type.rawValue):\(key)").lowercasedString
    }

    /// A random id, for events that are not a function of their input.
    public static func random() -> String { UUID().lowercasedString }
}
