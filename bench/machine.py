"""What every bench prints beside its figures: the machine (CPU model, cores, memory, load
average, Python) and the database; and the small pieces the benches share: a free but fixed
port, waiting for a server that starts slowly, CPU time of processes from /proc."""

from __future__ import annotations

import os
import platform
import socket
import time
from pathlib import Path

# Clock ticks per second, for the CPU times in /proc/<pid>/stat.
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def machine() -> str:
    """``AMD EPYC 7B13, 2 cores, 24 GiB, load average 1.20 0.80 0.50, Python 3.11.2``."""
    memory = memory_gib()
    parts = [cpu_model(), f"{os.cpu_count()} cores"]
    if memory:
        parts.append(f"{memory:.0f} GiB")
    parts += [f"load average {load_average()}", f"Python {platform.python_version()}"]
    return ", ".join(parts)


def print_machine(label: str = "Machine") -> None:
    print(f"{label}: {machine()}", flush=True)


def fixed_free_port(preferred: int, tries: int = 50) -> int:
    """The first free port from ``preferred`` upwards: the same port run after run unless it is
    taken (another bench, someone's server), never a random one."""
    for port in range(preferred, preferred + tries):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {preferred}–{preferred + tries - 1}")


def wait_until_ready(check, *, timeout: float = 180.0, interval: float = 0.25, process=None) -> float:
    """Call ``check()`` until it returns true; any error counts as "not yet" (a server that
    starts slowly refuses connections, resets them, answers 502 or times out). Gives up after
    ``timeout`` seconds, or at once if ``process`` (a Popen) has exited. Returns the seconds
    waited."""
    started = time.monotonic()
    last_error: BaseException | None = None
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode} before it was ready")
        try:
            if check():
                return time.monotonic() - started
        except Exception as error:  # noqa: BLE001 (not ready yet, whatever the reason)
            last_error = error
        time.sleep(interval)
    raise TimeoutError(f"not ready after {timeout:.0f} s (last error: {last_error!r})")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3; utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (gunicorn's workers of its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found
