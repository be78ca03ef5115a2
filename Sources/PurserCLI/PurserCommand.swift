import ArgumentParser

/// The operator CLI, `purser`. Subcommands are added as their features land.
public struct PurserCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "purser",
        abstract: "Operate the Purser pipeline: run it, inspect topics, replay, redrive.",
        subcommands: [
            RunCommand.self, TopicsCommand.self, BrokerCommand.self,
            LagCommand.self,
            TailCommand.self,
            DeadLetterCommand.self,
            ReplayCommand.self,
            CustomersCommand.self,
            ReconcileCommand.self,
        ]
    )

    public init() {}
}
