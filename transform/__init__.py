"""Pure polars transforms from raw provider records to warehouse frames."""
