"""The DuckDB warehouse: migrations, loads, report SQL and parquet export."""

from warehouse.batches import MEDIA_RESULT_COLUMNS
from warehouse.checkpoints import (
    done_windows,
    newest_archived_day,
    newest_message_day,
    settled_windows,
)
from warehouse.connection import open_warehouse, starts_new_archive
from warehouse.corrections import corrected_since_snapshot, snapshot_derived_columns
from warehouse.errors import (
    LandingChangedError,
    MigrationError,
    PendingMigrationsError,
    WarehouseBusyError,
    WarehouseError,
)
from warehouse.landing import (
    Adoption,
    LandedAnswer,
    LandedWindow,
    adopt_landed_answers,
    forget_unreadable_landings,
    landed_files,
    landed_windows,
    record_landing,
    refuse_a_new_archive_over_landings,
    refuse_unlisted_landings,
)
from warehouse.landing_files import (
    LandedFile,
    LandingWriter,
    landed_answer_count,
    landing_path,
    read_landed_answer,
    remove_partial_landings,
)
from warehouse.media_queue import (
    MAX_MEDIA_ATTEMPTS,
    has_requeued_media,
    pending_media,
    record_media_results,
    requeue_missing_media,
    stored_media,
)
from warehouse.merge import (
    MergeResult,
    WindowFrames,
    drop_resolved_rejections,
    merge_window,
    merge_windows,
)
from warehouse.migrate import apply_migrations
from warehouse.notices import NoticeRow, record_notices
from warehouse.runs import (
    StartedRun,
    finish_run,
    interrupt_dead_runs,
    start_run,
    unfinished_sync_start,
)
from warehouse.status import ArchiveStatus, archive_status
from warehouse.writer_lock import writer_alive, writer_lock

__all__ = [
    "MAX_MEDIA_ATTEMPTS",
    "MEDIA_RESULT_COLUMNS",
    "Adoption",
    "ArchiveStatus",
    "LandedAnswer",
    "LandedFile",
    "LandedWindow",
    "LandingChangedError",
    "LandingWriter",
    "MergeResult",
    "MigrationError",
    "NoticeRow",
    "PendingMigrationsError",
    "StartedRun",
    "WarehouseBusyError",
    "WarehouseError",
    "WindowFrames",
    "adopt_landed_answers",
    "apply_migrations",
    "archive_status",
    "corrected_since_snapshot",
    "done_windows",
    "drop_resolved_rejections",
    "finish_run",
    "forget_unreadable_landings",
    "has_requeued_media",
    "interrupt_dead_runs",
    "landed_answer_count",
    "landed_files",
    "landed_windows",
    "landing_path",
    "merge_window",
    "merge_windows",
    "newest_archived_day",
    "newest_message_day",
    "open_warehouse",
    "pending_media",
    "read_landed_answer",
    "record_landing",
    "record_media_results",
    "record_notices",
    "refuse_a_new_archive_over_landings",
    "refuse_unlisted_landings",
    "remove_partial_landings",
    "requeue_missing_media",
    "settled_windows",
    "snapshot_derived_columns",
    "start_run",
    "starts_new_archive",
    "stored_media",
    "unfinished_sync_start",
    "writer_alive",
    "writer_lock",
]
