"""The README's Quick start: its first command runs the demo, its second the whole test suite,
and CI runs that same test command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.rst").read_text(encoding="utf-8")
    section = text.split("Quick start\n-----------\n", 1)[1]
    section = re.split(r"\n\S[^\n]*\n-{3,}\n", section, maxsplit=1)[0]
    # Literal blocks: lines indented under a paragraph ending in "::".
    return [line.strip() for line in section.splitlines() if line.startswith("    ")]


def test_quick_start_has_two_commands_demo_then_tests() -> None:
    demo, tests = quick_start_commands()
    assert demo.endswith("-m shiptrack_sdk demo")
    assert "-m pytest" in tests
    for command in (demo, tests):
        assert "python3 -m venv" in command  # a new machine with only Python and pip


def test_ci_runs_the_readme_test_command_as_written() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "TEST_COMMAND=$(python3 tests/meta/test_readme.py --test-command)" in ci
    assert 'bash -euo pipefail -c "$TEST_COMMAND"' in ci
    printed = subprocess.run(  # noqa: S603 (this Python, this file)
        [sys.executable, str(Path(__file__)), "--test-command"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert printed == quick_start_commands()[1] + "\n"


if __name__ == "__main__":
    # .ci/run asks for the command it runs: ``python3 tests/meta/test_readme.py --test-command``
    # (standard library only: it runs before any environment exists).
    if sys.argv[1:] != ["--test-command"]:
        sys.exit("usage: test_readme.py --test-command")
    print(quick_start_commands()[1])
