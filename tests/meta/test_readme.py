"""The README's Quick start: its first command runs the demo, its second the whole test suite,
and CI runs that same test command."""

from __future__ import annotations

import re
import shlex
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


def _pytest_words(command: str) -> list[str]:
    words = shlex.split(command.split("&&")[-1])
    words[0] = Path(words[0]).name.replace("python3", "python")
    return words


def test_ci_runs_the_readme_test_command() -> None:
    _, readme = quick_start_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    (ci_line,) = [line for line in ci.splitlines() if re.match(r"^\s*python3? -m pytest", line)]
    readme_words, ci_words = _pytest_words(readme), _pytest_words(ci_line)
    assert ci_words[: len(readme_words)] == readme_words
    # Beyond the README's command, CI only quiets the output.
    assert set(ci_words[len(readme_words) :]) <= {"-q", "-p", "no:cacheprovider"}
    # And it installs at least what the README installs.
    readme_extras = re.search(r"\.\[([\w,]+)\]", readme)
    ci_extras = re.search(r"\.\[([\w,]+)\]", ci)
    assert readme_extras
    assert ci_extras
    assert set(readme_extras[1].split(",")) <= set(ci_extras[1].split(","))
