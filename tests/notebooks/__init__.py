"""Tests that the notebooks run top to bottom on an archive built through the real flow."""
