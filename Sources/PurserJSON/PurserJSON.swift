// PurserJSON: under construction.
