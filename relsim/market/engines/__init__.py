"""The two customer engines: Mesa agents one at a time, or numpy arrays in batched rounds."""
