import PurserCLI

await PurserCommand.main()
