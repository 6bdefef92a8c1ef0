"""An empty pyinfra deploy: run.py times it to measure pyinfra's own start-up."""
