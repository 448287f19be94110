"""Errors the warehouse raises, with messages written for the person running smsarchive."""

from __future__ import annotations


class WarehouseError(RuntimeError):
    """Base class of the warehouse's own errors."""


class MigrationError(WarehouseError):
    """The database's schema and the code's migrations disagree."""


class PendingMigrationsError(MigrationError):
    """The database lacks migrations this code ships (it was made by an older version)."""


class WarehouseBusyError(WarehouseError):
    """Another process holds the writer lock or has the DuckDB file open."""

    def __init__(self, message: str, *, pid: int | None = None, since: str | None = None) -> None:
        super().__init__(message)
        self.pid = pid
        self.since = since


class ForeignExportFolderError(WarehouseError):
    """An export was asked into a folder holding what no export made (it would replace it)."""


class ForeignReportFolderError(WarehouseError):
    """A report was asked into a folder of smsarchive's own making for something else (an
    export, the data dir), where its files would be in the way."""


class LinklessExportFolderError(WarehouseError):
    """An export was asked onto a file system that cannot hold its `current` link."""


class LostArchiveError(WarehouseError):
    """A run would start a new archive where landing/ holds the answers of earlier runs."""


class ShrunkenArchiveError(WarehouseError):
    """The archive lacks messages of the export it would replace: a lost archive, made again."""


class UnusablePathError(WarehouseError):
    """A path DuckDB would read as another file than the one it names."""


class UnreadableArchiveError(WarehouseError):
    """The archive file exists but DuckDB cannot read it (damaged, or not a DuckDB file)."""


class LandingChangedError(WarehouseError):
    """A landed answer is missing or no longer the file its ledger row describes."""


class UnknownAccountError(WarehouseError):
    """A report was asked for an account the archive holds no message of."""


class UnknownDidError(WarehouseError):
    """A report was asked about a DID the archive holds no message on."""
