import PurserCLI

// Thin main: the command lives in PurserCLI so `purser run` composes the same services.
await SandboxCommand.runAsRoot()
