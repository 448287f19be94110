"""Tests of the extract package: the VoIP.ms client, its errors and date windows."""
