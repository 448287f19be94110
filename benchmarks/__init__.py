"""Benchmarks of smsarchive at archive scale against the VoIP.ms sandbox (`make bench`)."""
