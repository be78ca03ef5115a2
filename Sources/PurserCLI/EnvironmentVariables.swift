import PurserIngest
import PurserRuntime
import PurserSchema

/// The environment variables each executable of the package reads, gathered from the configuration
/// types that read them: deployment files and the README's configuration table are checked against it.
enum EnvironmentVariables {
    static let logLevel = "LOG_LEVEL"

    /// The variables `executable` reads; `nil` for an executable the package does not build.
    static func read(by executable: String) -> Set<String>? {
        let kafka = ["KAFKA_BROKERS", "KAFKA_PROPERTIES_FILE", TopicNames.prefixVariable]
        let ingest = Set(IngestConfiguration.environmentVariables + kafka + [logLevel])
        let worker = Set(PurserConfiguration.environmentVariables + [logLevel])
        let sandbox = Set(SandboxCommand.environmentVariables)
        switch executable {
        case "purser-ingest":
            return ingest
        case "purser-transaction-fetcher", "purser-customer-policy", "purser-purse-renewer", "purser-deposit-crediter":
            return worker
        case "calypso-sandbox":
            return sandbox
        case "purser":
            // `purser run` composes every role; the other subcommands read subsets of the same names.
            return ingest.union(worker).union(sandbox).union([TopicsFolderOptions.variable])
        default:
            return nil
        }
    }
}
