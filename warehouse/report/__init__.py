"""Reports on the archive: SQL tables, Vega-Lite charts, and a self-contained HTML page."""

from warehouse.report.charts import CHARTS, chart_specs
from warehouse.report.grain_choice import fitting_grain, with_fitting_grain
from warehouse.report.page import SECTIONS, report_html
from warehouse.report.params import GRAINS, Grain, ReportScope
from warehouse.report.report_files import (
    STALE_STAGING,
    ReportFiles,
    default_folder,
    point_latest,
    prune_reports,
    refuse_a_folder_of_another_kind,
    staging_folder,
    write_in_place,
    write_report,
    write_whole,
)
from warehouse.report.summary import scope_line, summary_lines, summary_markdown
from warehouse.report.tables import REPORT_TABLES, archived_account, report_table, report_tables

__all__ = [
    "CHARTS",
    "GRAINS",
    "REPORT_TABLES",
    "SECTIONS",
    "STALE_STAGING",
    "Grain",
    "ReportFiles",
    "ReportScope",
    "archived_account",
    "chart_specs",
    "default_folder",
    "fitting_grain",
    "point_latest",
    "prune_reports",
    "refuse_a_folder_of_another_kind",
    "report_html",
    "report_table",
    "report_tables",
    "scope_line",
    "staging_folder",
    "summary_lines",
    "summary_markdown",
    "with_fitting_grain",
    "write_in_place",
    "write_report",
    "write_whole",
]
