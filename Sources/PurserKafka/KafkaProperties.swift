import Foundation

/// Raw librdkafka properties from a `key=value` file, and the parsing of broker lists.
public enum KafkaProperties {
    /// A properties file that cannot be used, naming the file and line.
    public struct LoadError: Error, Sendable, Equatable, CustomStringConvertible {
        public let path: String
        public let line: Int?
        public let reason: String

        public var description: String {
            "\(path)\(line.map { ":\($0)" } ?? ""): \(reason)"
        }
    }

    /// Parses `key=value` lines; blank lines and lines starting with `#` are ignored, whitespace
    /// around keys and values is trimmed, and a value may itself contain `=`.
    /// - Throws: ``LoadError`` naming the first malformed line.
    public static func parse(_ text: String, path: String = "<properties>") throws(LoadError) -> [String: String] {
        var properties: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw LoadError(path: path, line: index + 1, reason: "expected key=value")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else { throw LoadError(path: path, line: index + 1, reason: "empty property name") }
            properties[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return properties
    }

    /// Reads and parses the properties file at `path`.
    public static func load(path: String) throws(LoadError) -> [String: String] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw LoadError(path: path, line: nil, reason: "cannot read the file")
        }
        return try parse(text, path: path)
    }

    /// The properties of the file named by `KAFKA_PROPERTIES_FILE`, or none when it is unset.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(LoadError) -> [String: String] {
        guard let path = environment["KAFKA_PROPERTIES_FILE"], !path.isEmpty else { return [:] }
        return try load(path: path)
    }

    /// Splits a comma-separated `host:port` list (as in `KAFKA_BROKERS`), dropping blanks.
    public static func brokers(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
