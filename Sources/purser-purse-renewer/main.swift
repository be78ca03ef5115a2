import PurserCLI

// Thin main: the role's command lives in PurserCLI so `purser run` composes the same services.
// Inside an async function the compiler picks `AsyncParsableCommand.main()`.
func runWorker() async { await PurseRenewerCommand.main() }
await runWorker()
