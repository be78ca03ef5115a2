// PurserSchema: under construction.
