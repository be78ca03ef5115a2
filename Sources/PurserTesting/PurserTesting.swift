// PurserTesting: under construction.
