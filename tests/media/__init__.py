"""Tests for extract.media."""
