"""Rules for the test suite itself: no test leaves a process running (the guard in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from tests.conftest import ROOT, describe

# --- the guards in conftest.py, run on a small suite of their own ---------------------------------

GUARDED_CONFTEST = """
from tests.conftest import pytest_sessionfinish, pytest_terminal_summary  # noqa: F401 - the hooks under test
"""


def run_suite(folder: Path, files: dict[str, str], ci: bool) -> subprocess.CompletedProcess:
    for name, source in {"conftest.py": GUARDED_CONFTEST, **files}.items():
        (folder / name).write_text(textwrap.dedent(source), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key not in {"CI", "PYTEST_ADDOPTS"}}
    env |= {"PYTHONPATH": str(ROOT), "TEST_DATABASE_URL": ""} | ({"CI": "true"} if ci else {})
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(folder)]
    # run() kills the inner pytest if it overruns the timeout: it never outlives this test.
    return subprocess.run([*command, str(folder)], cwd=folder, env=env, capture_output=True, text=True, timeout=300)


def test_a_process_left_running_fails_the_run_and_is_stopped(tmp_path):
    marker = f"left-behind-{uuid.uuid4().hex}"
    leaky = f"""
        import subprocess
        import sys


        def test_starts_a_process_and_forgets_it():
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "{marker}"])
    """
    result = run_suite(tmp_path, {"test_leaky.py": leaky}, ci=False)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "processes the tests left running (now killed)" in output and marker in output
    still_running = [description for description in map(describe, _pids()) if marker in description]
    assert still_running == []


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
