"""What the commands print: plain-text tables for people, JSON for scripts, and
progress lines that only a person at a terminal sees.

Tables and JSON go to stdout; progress and warnings go to stderr so a pipe receives
only the result.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TextIO

Column = tuple[str, str]        # (row key, header)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple, set)):
        return ",".join(str(v) for v in value) or "-"
    # A cell is one line whatever the value holds.
    return " ".join(str(value).split()) or "-"


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column]) -> str:
    """Rows as left-aligned columns under a header line."""
    cells = [[header for _, header in columns]]
    cells += [[_cell(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


def emit(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], as_json: bool,
         out: TextIO | None = None, empty: str = "") -> None:
    """Print rows as a table, or as a JSON list with every key when `as_json`."""
    out = out or sys.stdout
    if as_json:
        print(json.dumps(rows, indent=1, sort_keys=True, default=str), file=out)
    elif rows or not empty:
        print(table(rows, columns), file=out)
    else:
        print(empty, file=out)


def human_size(size: int) -> str:
    value, units = float(size), ("B", "KiB", "MiB", "GiB", "TiB")
    for unit in units:
        if value < 1024 or unit == units[-1]:
            break
        value /= 1024
    return f"{value:.4g} {unit}"


def one_line(text: str) -> str:
    """Text with every unprintable character escaped, so that what names a bad argument
    (a control character, a Unicode line separator) cannot break the promised one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def error_line(prog: str, message: str) -> None:
    print(f"{prog}: {one_line(message)}", file=sys.stderr)


def warn(prog: str, message: str) -> None:
    print(f"{prog}: warning: {' '.join(message.split())}", file=sys.stderr)


class Progress:
    """One self-overwriting status line on a terminal; nothing when stderr is not a TTY."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self._width = 0

    def update(self, text: str) -> None:
        if not self.live:
            return
        text = " ".join(text.split())
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def done(self) -> None:
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def guarded(run: Callable[[Any], int]) -> Callable[[Any], int]:
    """A `vssorch` command whose failures are one line on stderr: exit 2 for input the
    user must correct (configuration, batch file, names the array does not have), 1 for
    an operation that failed, never a traceback."""
    from core.errors import BadInput, ConfigError, VssError, as_vss_error

    def call(args: Any) -> int:
        try:
            return run(args)
        except (ConfigError, BadInput) as exc:
            error_line("vssorch", str(exc))
            return 2
        except VssError as exc:
            error_line("vssorch", str(exc))
            return 1
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except Exception as exc:    # noqa: BLE001 - an adapter's error or a bug: still one line
            error_line("vssorch", str(as_vss_error(exc)))
            return 1
    return call
