"""A loopback HTTP server that behaves like the VoIP.ms SMS/MMS API, on synthetic data."""
