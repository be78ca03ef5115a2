import PurserCLI

// Thin main: the role's command lives in PurserCLI so `purser run` composes the same services.
print("purser-deposit-crediter: not implemented yet")
