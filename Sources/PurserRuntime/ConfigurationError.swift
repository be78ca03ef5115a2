/// A configuration value that is missing or wrong. The description names the variable and never shows a
/// secret's value.
public struct ConfigurationError: Error, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String {
            case missing
            case invalid
            case unreadableFile
        }

        let kind: Kind

        /// A required variable is not set.
        public static let missing = Code(kind: .missing)
        /// A variable is set to a value that cannot be used.
        public static let invalid = Code(kind: .invalid)
        /// A `…_FILE` variable names a file that cannot be read.
        public static let unreadableFile = Code(kind: .unreadableFile)

        public var description: String { kind.rawValue }
    }

    public var code: Code
    /// The environment variable at fault, e.g. `WORKER_MAX_IN_FLIGHT`.
    public var variable: String
    /// What is wrong and what is expected; never contains a secret.
    public var reason: String

    public init(_ code: Code, variable: String, reason: String) {
        self.code = code
        self.variable = variable
        self.reason = reason
    }

    public var description: String { "\(variable): \(reason)" }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code && lhs.variable == rhs.variable
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(variable)
    }
}
