"""`--help` on a narrow terminal: typer's tables fold a long word onto the next line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import RenderableType
from rich.style import StyleType
from rich.table import Table


class FoldingTable(Table):
    """A table each of whose columns folds a word too long for it. rich's default cuts the word
    with an ellipsis: at 80 columns `--redownload-missing-me…` and `SMSARCHIVE_BUSY_WAIT_SECO…`
    were all a reader had to type from."""

    def add_row(
        self,
        *renderables: RenderableType | None,
        style: StyleType | None = None,
        end_section: bool = False,
    ) -> None:
        """rich's, then every column (made on the first row) set to fold."""
        super().add_row(*renderables, style=style, end_section=end_section)
        for column in self.columns:
            column.overflow = "fold"


@contextmanager
def long_words_folded() -> Iterator[None]:
    """For the block, typer's help tables fold long words. typer builds its tables, and rich
    the grid an option's help is laid out in (`Columns`), with the `Table` each module looks up
    in its own globals as a help is drawn: both are this one meanwhile."""
    from rich import columns
    from typer import rich_utils

    # a later typer or rich that looks it up elsewhere draws its help as it is (the tests of
    # help at 80 columns then say so), never fails to draw it
    drawing = [module for module in (rich_utils, columns) if getattr(module, "Table", None)]
    drawn_with = [module.Table for module in drawing]
    for module in drawing:
        setattr(module, "Table", FoldingTable)  # noqa: B010 - a module's global, by its name
    try:
        yield
    finally:
        for module, table in zip(drawing, drawn_with, strict=True):
            setattr(module, "Table", table)  # noqa: B010
