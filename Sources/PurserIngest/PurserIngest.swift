// PurserIngest: under construction.
