"""Tests of `smsarchive serve`: the scheduled nightly deployment."""
