// PurserWorkers: under construction.
