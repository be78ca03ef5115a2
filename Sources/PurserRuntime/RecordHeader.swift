/// A Kafka record header. Order and duplicates are kept; a header may have no value.
public struct RecordHeader: Hashable, Sendable {
    public var name: String
    public var value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    /// A header whose value is the UTF-8 encoding of `value`.
    public init(name: String, string value: String) {
        self.init(name: name, value: Array(value.utf8))
    }

    /// The value read as UTF-8, or `nil` when absent or not valid UTF-8.
    public var stringValue: String? {
        value.flatMap { String(validating: $0, as: UTF8.self) }
    }
}

extension Array where Element == RecordHeader {
    /// The value of the last header called `name`, as Kafka clients conventionally read headers.
    public func last(named name: String) -> RecordHeader? {
        last { $0.name == name }
    }
}
