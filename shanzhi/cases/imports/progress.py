"""A progress line on stderr: rows done (of the total when known), rows per second, time left.

On a terminal the line redraws in place a few times a second; into a file or a pipe it prints a
new line every `LOG_EVERY` seconds, so logs stay short.
"""

from __future__ import annotations

import time
from typing import Protocol

REDRAW_EVERY = 0.2
LOG_EVERY = 10.0
BAR = 24


class Stream(Protocol):
    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}小时{seconds % 3600 // 60:02d}分"
    if seconds >= 60:
        return f"{seconds // 60}分{seconds % 60:02d}秒"
    return f"{seconds}秒"


class Progress:
    def __init__(self, stream: Stream | None, *, total: int | None, start: int = 0) -> None:
        self.stream = stream
        self.total = total
        self.start = start  # rows settled by earlier runs: not counted in this run's speed
        self.done = start
        self.started = time.monotonic()
        self.shown = 0.0
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty()) if callable(isatty) else False

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = (self.done - self.start) / elapsed
        parts = []
        if self.total:
            share = min(self.done / self.total, 1.0)
            filled = int(share * BAR)
            parts.append(f"[{'#' * filled}{'.' * (BAR - filled)}] {share * 100:5.1f}%")
            parts.append(f"{self.done:,}/{self.total:,} 行")
        else:
            parts.append(f"{self.done:,} 行")
        parts.append(f"{rate:,.0f} 行/秒")
        if self.total and rate > 0 and self.done < self.total:
            parts.append(f"剩余约 {_duration((self.total - self.done) / rate)}")
        return "导入 " + " · ".join(parts)

    def update(self, done: int) -> None:
        self.done = done
        if self.stream is None:
            return
        now = time.monotonic()
        if now - self.shown < (REDRAW_EVERY if self.tty else LOG_EVERY):
            return
        self.shown = now
        self._write(self.line())

    def note(self, text: str) -> None:
        if self.stream is not None:
            self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
            self.stream.flush()

    def finish(self) -> None:
        if self.stream is None:
            return
        if self.total is not None and self.done > self.total:
            self.total = self.done
        self._write(self.line())
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _write(self, text: str) -> None:
        assert self.stream is not None
        if self.tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
