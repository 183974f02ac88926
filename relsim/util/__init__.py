"""Ground-floor helpers: progress display, output files, figure style. Import nothing else from relsim."""
