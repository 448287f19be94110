"""Tests of the VoIP.ms sandbox: generator, media, API, faults and controls."""
