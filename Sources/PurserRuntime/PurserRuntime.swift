// PurserRuntime: under construction.
