/// Logger metadata keys used by the runtime.
enum LoggingKeys {
    static let worker = "purser.worker"
    static let topic = "purser.topic"
    static let partition = "purser.partition"
    static let offset = "purser.offset"
    static let attempt = "purser.attempt"
}
