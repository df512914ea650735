"""Rules for the test suite itself: everything it needs is in the repository, nothing is
skipped under CI=true, and no test leaves a process running (the guards in conftest.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from tests.conftest import ROOT, describe

TESTS = ROOT / "tests"
TEXT_FILES = {".py", ".ini", ".cfg", ".toml", ".txt", ".md", ".yml", ".yaml"}

# Ways a test could read something from outside the repository. Each pattern is written so
# that it does not match its own source text.
OUTSIDE = {
    "the folder above the repository": r"\bROOT\s*\.\s*parents?\b",
    "a relative path that climbs out": r"""(?:^|[\s"'/(=])\.\.(?:[/\\"')]|$)""",
    "the parent-folder name in os": r"\bos\s*\.\s*pardir\b",
    "the home folder": r"\bPath\s*\.\s*home\s*\(|expanduser\s*\(|[\"']~/",
    "an absolute path to shared or user files": r"[\"'](?:/work|/home|/root|/shared|/mnt|/srv|/opt|/data)/",
}


def _escapes_the_repository(path: Path, text: str) -> list[str]:
    """Path(__file__).parent chains and .parents[n] that reach above the repository's root."""
    depth = len(path.relative_to(ROOT).parts) - 1  # tests/x.py: parents[1] is the root
    found = []
    for chain in re.findall(r"__file__\s*\)(?:\s*\.\s*resolve\s*\(\s*\))?((?:\s*\.\s*parent\b)+)", text):
        if chain.count("parent") - 1 > depth:
            found.append(f"Path(__file__){''.join(chain.split())}")
    found += [f"parents[{n}]" for n in re.findall(r"\bparents\s*\[\s*(\d+)\s*\]", text) if int(n) > depth]
    return found


def test_the_tests_read_nothing_from_outside_the_repository():
    files = [ROOT / "pytest.ini"] + [
        path for path in TESTS.rglob("*") if path.suffix in TEXT_FILES and "__pycache__" not in path.parts
    ]
    assert TESTS / "test_api.py" in files and TESTS / "conftest.py" in files
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for line_number, line in enumerate(text.splitlines(), start=1):
            found += [f"{path.relative_to(ROOT)}:{line_number}: {name}: {line.strip()}"
                      for name, pattern in OUTSIDE.items() if re.search(pattern, line)]  # fmt: skip
        found += [f"{path.relative_to(ROOT)}: {escape}" for escape in _escapes_the_repository(path, text)]
    assert found == []


def test_the_outside_path_check_recognises_what_it_looks_for():
    # Put together from pieces, so that this file's own source passes the check above.
    up, parent = "." + ".", ".parent"
    examples = {
        "the folder above the repository": f'HSDS = ROOT{parent} / "x"',
        "a relative path that climbs out": f'open("{up}/x/schema.json")',
        "the parent-folder name in os": "Path(os" + ".pardir)",
        "the home folder": "Path" + ".home() / 'x'",
        "an absolute path to shared or user files": 'Path("' + "/work" + '/x")',
    }
    for name, line in examples.items():
        assert re.search(OUTSIDE[name], line), name
    assert not any(re.search(pattern, 'ROOT / "tests" / "hsds-3.1"') for pattern in OUTSIDE.values())
    assert not any(re.search(pattern, "def f(): ...") for pattern in OUTSIDE.values())
    here = "Path(__file__).resolve()"
    assert _escapes_the_repository(TESTS / "x.py", here + parent * 3)
    assert not _escapes_the_repository(TESTS / "x.py", here + parent * 2)
    assert _escapes_the_repository(TESTS / "x.py", "Path(__file__).parents" + "[2]")
    assert not _escapes_the_repository(TESTS / "e2e" / "x.py", "Path(__file__).parents" + "[2]")


# --- the guards in conftest.py, run on a small suite of their own ---------------------------------

GUARDED_CONFTEST = """
from tests.conftest import (  # noqa: F401 - the hooks under test
    pytest_collectreport, pytest_runtest_logreport, pytest_sessionfinish, pytest_terminal_summary,
)
"""

EVERY_WAY_NOT_TO_RUN = """
import pytest


@pytest.fixture
def missing_service():
    pytest.skip("service not running")


def test_runs():
    pass


@pytest.mark.skip(reason="marked")
def test_marked_skip():
    pass


@pytest.mark.skipif(True, reason="condition")
def test_skipif():
    pass


def test_skip_call():
    pytest.skip("inside the test")


def test_skip_in_fixture(missing_service):
    pass


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False


@pytest.mark.xfail(reason="maybe fixed")
def test_xpass():
    pass


def test_xfail_call():
    pytest.xfail("imperative")
"""

SKIPPED_MODULE = """
import pytest

pytest.importorskip("no_such_module_anywhere")


def test_never_collected():
    pass
"""


def run_suite(folder: Path, files: dict[str, str], ci: bool) -> subprocess.CompletedProcess:
    for name, source in {"conftest.py": GUARDED_CONFTEST, **files}.items():
        (folder / name).write_text(textwrap.dedent(source), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key not in {"CI", "PYTEST_ADDOPTS"}}
    env |= {"PYTHONPATH": str(ROOT), "TEST_DATABASE_URL": ""} | ({"CI": "true"} if ci else {})
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(folder)]
    # run() kills the inner pytest if it overruns the timeout: it never outlives this test.
    return subprocess.run([*command, str(folder)], cwd=folder, env=env, capture_output=True, text=True, timeout=300)


def test_under_ci_any_skip_or_xfail_fails_the_run_and_is_listed(tmp_path):
    files = {"test_kinds.py": EVERY_WAY_NOT_TO_RUN, "test_module_skip.py": SKIPPED_MODULE}
    result = run_suite(tmp_path, files, ci=True)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "not run, which CI=true does not allow" in output
    for line in [
        "skipped test_kinds.py::test_marked_skip (setup): marked",
        "skipped test_kinds.py::test_skipif (setup): condition",
        "skipped test_kinds.py::test_skip_call (call): inside the test",
        "skipped test_kinds.py::test_skip_in_fixture (setup): service not running",
        "xfailed test_kinds.py::test_xfail (call): known bug",
        "xpassed test_kinds.py::test_xpass (call): maybe fixed",
        "xfailed test_kinds.py::test_xfail_call (call): imperative",
        "skipped test_module_skip.py (collection): could not import 'no_such_module_anywhere'",
    ]:
        assert line in output, output
    assert "test_runs " not in output.split("not run, which CI=true does not allow")[1]


def test_without_ci_skips_are_allowed(tmp_path):
    result = run_suite(tmp_path, {"test_kinds.py": EVERY_WAY_NOT_TO_RUN}, ci=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not run, which CI=true does not allow" not in result.stdout


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
