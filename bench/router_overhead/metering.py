"""CPU seconds and client connections, read from /proc: of the server under test, of this
benchmark's processes, and of the whole machine (to tell whether others disturbed a run)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CpuMeter:
    """Reads CPU seconds used so far: by the server under test, and by every process of this
    benchmark (client, test servers, proxy), to tell how busy the rest of the machine was."""

    server: Callable[[], float | None]
    ours: Callable[[], float | None]
    connections: Callable[[], list[int]] = list
    """Established client connections per server process, most first (router only)."""

    def read(self) -> tuple[float | None, float | None, float | None]:
        return self.server(), self.ours(), machine_busy_seconds()


def _processes() -> Iterator[tuple[int, int, int]]:
    """``(pid, process group id, CPU ticks used)`` of every live process, from ``/proc``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # After "pid (comm) ": state ppid pgrp ..., utime and stime 12th and 13th.
        fields = stat[stat.rindex(")") + 2 :].split()
        yield int(entry.name), int(fields[2]), int(fields[11]) + int(fields[12])


def cpu_seconds(pids: Collection[int] = (), pgids: Collection[int] = ()) -> float | None:
    """CPU seconds (user + system) used so far by the live processes with these ids or in
    these process groups; ``None`` where there is no ``/proc``."""
    if not Path("/proc").is_dir():
        return None
    ticks = sum(t for pid, pgid, t in _processes() if pid in pids or pgid in pgids)
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float | None:
    """CPU seconds all CPUs have spent busy since boot (``/proc/stat``), if known."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, first[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def connections_per_process(pgid: int, port: int) -> list[int]:
    """How many established connections to local ``port`` each process of a process group
    holds (those holding any, most first), from ``/proc``; empty where unknown.

    With several uvicorn workers sharing one listening socket, whichever worker is in
    ``accept`` takes a burst of new connections, and keep-alive keeps them there.
    """
    if not Path("/proc").is_dir():
        return []
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                    inodes.add(f"socket:[{fields[9]}]")
    counts = []
    for pid in (pid for pid, group, _ in _processes() if group == pgid):
        with contextlib.suppress(OSError):
            fds = Path(f"/proc/{pid}/fd").iterdir()
            held = sum(1 for fd in fds if _readlink(fd) in inodes)
            if held:
                counts.append(held)
    return sorted(counts, reverse=True)


def _readlink(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""
