import Foundation

/// Typed access to environment variables, with errors that name the variable.
///
/// Every process reads its environment through one of these in `main` and passes typed values down.
public struct EnvironmentReader: Sendable {
    public var variables: [String: String]
    let readFile: @Sendable (String) throws -> String

    /// - Parameters:
    ///   - variables: The environment; by default the process's.
    ///   - readFile: Reads the file named by a `…_FILE` variable; by default from the file system.
    public init(
        _ variables: [String: String] = ProcessInfo.processInfo.environment,
        readFile: @escaping @Sendable (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) {
        self.variables = variables
        self.readFile = readFile
    }

    /// The variable's value; unset and empty (after trimming) both count as absent.
    public func string(_ name: String) -> String? {
        guard let value = variables[name]?.trimmed, !value.isEmpty else { return nil }
        return value
    }

    /// The variable's value, or a ``ConfigurationError`` naming it when absent.
    public func required(_ name: String) throws(ConfigurationError) -> String {
        guard let value = string(name) else {
            throw ConfigurationError(.missing, variable: name, reason: "is required but not set")
        }
        return value
    }

    /// Parses the variable with `parse`; absent gives `nil`, a value `parse` rejects gives an error naming
    /// the variable, the value and `expected`.
    public func parsed<T>(
        _ name: String,
        expected: String,
        _ parse: (String) -> T?
    ) throws(ConfigurationError) -> T? {
        guard let text = string(name) else { return nil }
        guard let value = parse(text) else {
            throw ConfigurationError(.invalid, variable: name, reason: "'\(text)' is not \(expected)")
        }
        return value
    }

    /// An integer in `range`, or `nil` when absent.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        try parsed(name, expected: "an integer in \(range.lowerBound)...\(range.upperBound)") { text in
            Int(text).flatMap { range.contains($0) ? $0 : nil }
        }
    }

    /// A secret from `NAME` or from the file named by `NAME_FILE` (trailing newlines dropped).
    ///
    /// - Throws: ``ConfigurationError`` when both are set, or the file cannot be read or is empty. The error
    ///   never contains the value.
    public func secret(_ name: String) throws(ConfigurationError) -> Secret? {
        let fileVariable = name + "_FILE"
        let direct = string(name)
        guard let path = string(fileVariable) else { return direct.map(Secret.init) }
        guard direct == nil else {
            throw ConfigurationError(.invalid, variable: fileVariable, reason: "is set together with \(name); set one")
        }
        let contents: String
        do {
            contents = try readFile(path)
        } catch {
            throw ConfigurationError(.unreadableFile, variable: fileVariable, reason: "cannot read '\(path)'")
        }
        let value = contents.trimmed
        guard !value.isEmpty else {
            throw ConfigurationError(.invalid, variable: fileVariable, reason: "'\(path)' is empty")
        }
        return Secret(value)
    }
}
