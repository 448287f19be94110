"""Tests of the flows package: settings, CLI, wiring."""
