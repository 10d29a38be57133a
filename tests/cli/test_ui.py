"""The CLI's table: header, dashes, one line per row, never wrapped, cells printed as they are."""

from __future__ import annotations

import subprocess
import sys

from medperf_core.cli.ui import table


def test_a_table_is_header_dashes_and_rows() -> None:
    lines = table([[1, "chestxray", None], [12, "b", "APPROVED"]], ["id", "name", "status"]).splitlines()
    assert lines[0].split() == ["id", "name", "status"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split() == ["1", "chestxray"] and lines[3].split() == ["12", "b", "APPROVED"]
    assert all(line == line.rstrip() for line in lines)


def test_long_cells_are_not_wrapped_and_markup_is_literal() -> None:
    long = "sha256:" + "ab" * 200
    lines = table([[long, "[bold]x[/bold]"]], ["hash", "note"]).splitlines()
    assert len(lines) == 3 and lines[2].split() == [long, "[bold]x[/bold]"]


def test_loading_the_cli_does_not_import_rich() -> None:
    code = "import sys; from medperf_core.cli.main import main; print('rich' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
