import PurserCLI

// Thin main: the role's command lives in PurserCLI so `purser run` composes the same services.
// Inside an async function the compiler picks `AsyncParsableCommand.main()` (top-level code would
// pick the synchronous one, which refuses async commands).
func runIngest() async { await IngestCommand.main() }
await runIngest()
