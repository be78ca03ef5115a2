// CalypsoSandbox: under construction.
