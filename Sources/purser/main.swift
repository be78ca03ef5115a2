import PurserCLI

/// Inside an async function the compiler picks `AsyncParsableCommand.main()`; top-level code
/// picks the synchronous `ParsableCommand.main()`, which refuses async subcommands.
func runPurser() async { await PurserCommand.main() }

await runPurser()
