"""Tests of the transform package."""
