"""Prefect flows and the smsarchive command line: wiring only."""
