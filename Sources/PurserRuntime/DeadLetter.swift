import Foundation

/// A record that a worker could not process, as stored on `purser.dlq.<worker>.v1`.
///
/// The dead-letter record keeps the original key, value and headers unchanged and appends the headers
/// below, so `purser dlq show` can explain it and `purser dlq redrive` can publish the original again.
public struct DeadLetter: Sendable {
    /// Names of the headers the runtime appends to a dead-letter record.
    public enum Header {
        /// The error's description.
        public static let error = "purser-dlq-error"
        /// `permanent` (retrying cannot help) or `exhausted` (transient, but the retry budget ran out).
        public static let reason = "purser-dlq-reason"
        /// Attempts made, as a decimal integer.
        public static let attempts = "purser-dlq-attempts"
        /// The worker that gave up, e.g. `deposit-crediter`.
        public static let worker = "purser-dlq-worker"
        /// The original record's topic, partition and offset.
        public static let topic = "purser-dlq-topic"
        public static let partition = "purser-dlq-partition"
        public static let offset = "purser-dlq-offset"
        /// When the record was dead-lettered, RFC 3339 in UTC with milliseconds.
        public static let time = "purser-dlq-time"

        static let all: Set<String> = [error, reason, attempts, worker, topic, partition, offset, time]
    }

    /// The record as it was consumed: original topic, partition, offset, key, value and headers.
    public var original: InputRecord
    public var worker: String
    public var error: String
    public var reason: RetryFailure.Reason
    public var attempts: Int
    public var time: Date

    public init(
        original: InputRecord,
        worker: String,
        error: String,
        reason: RetryFailure.Reason,
        attempts: Int,
        time: Date
    ) {
        self.original = original
        self.worker = worker
        self.error = error
        self.reason = reason
        self.attempts = attempts
        self.time = time
    }

    /// The record to publish on `dlqTopic`: original key, value and headers, then the failure headers.
    public func record(topic dlqTopic: String) -> OutputRecord {
        let failure = [
            RecordHeader(name: Header.error, string: error),
            RecordHeader(name: Header.reason, string: reason.rawValue),
            RecordHeader(name: Header.attempts, string: String(attempts)),
            RecordHeader(name: Header.worker, string: worker),
            RecordHeader(name: Header.topic, string: original.topic),
            RecordHeader(name: Header.partition, string: String(original.partition)),
            RecordHeader(name: Header.offset, string: String(original.offset)),
            RecordHeader(name: Header.time, string: time.formatted(Self.timeFormat)),
        ]
        return OutputRecord(
            topic: dlqTopic,
            key: original.key,
            value: original.value,
            headers: original.headers + failure
        )
    }

    /// Reads a record consumed from a dead-letter topic.
    ///
    /// - Returns: `nil` when the record lacks the failure headers (it was not written by the runtime).
    public init?(deadLetterRecord record: InputRecord) {
        let headers = record.headers
        func value(_ name: String) -> String? { headers.last(named: name)?.stringValue }
        guard let topic = value(Header.topic),
            let partition = value(Header.partition).flatMap({ Int32($0) }),
            let offset = value(Header.offset).flatMap({ Int64($0) }),
            let attempts = value(Header.attempts).flatMap({ Int($0) }),
            let reason = value(Header.reason).flatMap(RetryFailure.Reason.init(rawValue:)),
            let time = value(Header.time).flatMap({ try? Self.timeFormat.parse($0) })
        else { return nil }
        self.original = InputRecord(
            topic: topic,
            partition: partition,
            offset: offset,
            key: record.key,
            value: record.value,
            headers: headers.filter { !Header.all.contains($0.name) },
            timestampMilliseconds: record.timestampMilliseconds
        )
        self.worker = value(Header.worker) ?? ""
        self.error = value(Header.error) ?? ""
        self.reason = reason
        self.attempts = attempts
        self.time = time
    }

    /// The record that `purser dlq redrive` publishes: the original, back on its original topic.
    public var redriveRecord: OutputRecord {
        OutputRecord(topic: original.topic, key: original.key, value: original.value, headers: original.headers)
    }

    private static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
}
