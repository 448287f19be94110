"""Providers: fetch raw message records over HTTP; never touches the warehouse."""
