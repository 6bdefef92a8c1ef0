"""Operating a deployed cluster: the run loop, shutdown, status."""
