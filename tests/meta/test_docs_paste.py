"""The docs paste: every example runs as written in a fresh interpreter.

The doctest build runs each page's examples group by group. Read here without running them:

* every name a visible example uses is defined by a visible example before it (an import, an
  assignment, ``sandbox = Sandbox().start()``): nothing comes from ``conf.py``'s global setup,
  from a ``testsetup`` or from a hidden block, whose names are all private (``_saved``);
* a sandbox a page starts, it stops, where readers see it (``sandbox.stop()``);
* no example imports a private module (``shiptrack_sdk.lex._sandbox_orders``), except the
  provider registry on the pages written for contributors who add a provider;
* the copy button strips the prompts, the docs extra holds what the doctests and the notebook
  need, the README installs what exists, and no table holds a token wider than the page.

The API reference has its own checks: ``test_docs_api.py``.
"""

from __future__ import annotations

import ast
import builtins
import configparser
import doctest
import re
import symtable
import textwrap
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.rst") if "_build" not in p.parts)

#: Pages for contributors who add a provider: they may import the provider registry.
CONTRIBUTOR_PAGES = {"adding-a-provider.rst", "architecture.rst"}
CONTRIBUTOR_IMPORTS = {"shiptrack_sdk._providers"}

_DIRECTIVE = re.compile(
    r"^(?P<indent>[ \t]*)\.\. (?P<kind>doctest|testcode|testsetup|testcleanup)::"
    r"[ \t]*(?P<groups>.*)$"
)
_OPTION = re.compile(r"^[ \t]+:(?P<name>[\w-]+):(?P<value>.*)$")


@attrs.frozen
class Block:
    """One code block of a page: its kind, groups, whether readers see it, and its code."""

    page: str
    line: int
    kind: str
    groups: tuple[str, ...]
    hidden: bool
    sources: tuple[str, ...]  # one per doctest example, or the whole testcode

    def where(self) -> str:
        return f"{self.page}:{self.line}"


def _doctest_sources(text: str) -> tuple[str, ...]:
    return tuple(example.source for example in doctest.DocTestParser().get_examples(text))


def blocks(path: Path) -> list[Block]:
    """The page's doctest, testcode, testsetup and testcleanup blocks, and its bare ``>>>``
    paragraphs (which the doctest builder runs too), in page order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = str(path.relative_to(DOCS))
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        if match is None:
            if lines[i].lstrip().startswith(">>>") and (i == 0 or not lines[i - 1].strip()):
                # A bare doctest block, unless it is inside some directive or literal block.
                indent = len(lines[i]) - len(lines[i].lstrip())
                j = i
                while j < len(lines) and lines[j].strip():
                    j += 1
                previous = next((ln for ln in reversed(lines[:i]) if ln.strip()), "")
                prev_indent = len(previous) - len(previous.lstrip())
                inside = previous.rstrip().endswith("::") or (
                    prev_indent < indent and previous.lstrip().startswith(".. ")
                )
                if not inside and not _inside_directive(lines, i):
                    text = textwrap.dedent("\n".join(lines[i:j]))
                    found.append(
                        Block(page, i + 1, "doctest", ("default",), False, _doctest_sources(text))
                    )
                i = j
                continue
            i += 1
            continue
        indent = len(match["indent"])
        start = i + 1
        groups = tuple(g.strip() for g in match["groups"].split(",") if g.strip()) or ("default",)
        options: dict[str, str] = {}
        i += 1
        while i < len(lines) and _OPTION.match(lines[i]):
            option = _OPTION.match(lines[i])
            assert option is not None
            options[option["name"]] = option["value"].strip()
            i += 1
        body: list[str] = []
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
        ):
            body.append(lines[i])
            i += 1
        text = textwrap.dedent("\n".join(body)).strip("\n")
        kind = match["kind"]
        sources = _doctest_sources(text) if kind == "doctest" else (text + "\n",)
        hidden = kind in ("testsetup", "testcleanup") or "hide" in options
        found.append(Block(page, start, kind, groups, hidden, sources))
    return found


def _inside_directive(lines: list[str], index: int) -> bool:
    """Whether line ``index`` is the content of a directive (any directive) above it."""
    indent = len(lines[index]) - len(lines[index].lstrip())
    for line in reversed(lines[:index]):
        if not line.strip():
            continue
        line_indent = len(line) - len(line.lstrip())
        if line_indent < indent:
            return line.lstrip().startswith(".. ") or line.rstrip().endswith("::")
    return False


def _tables(table: symtable.SymbolTable) -> Iterator[symtable.SymbolTable]:
    yield table
    for child in table.get_children():
        yield from _tables(child)


def names(source: str) -> tuple[set[str], set[str]]:
    """(names the code binds at module level, module-level names it reads before binding)."""
    top = symtable.symtable(source, "<example>", "exec")
    bound: set[str] = set()
    used: set[str] = set()
    for sym in top.get_symbols():
        if sym.is_assigned() or sym.is_imported() or sym.is_namespace():
            bound.add(sym.get_name())
        elif sym.is_referenced():
            used.add(sym.get_name())
    for table in _tables(top):
        if table is top:
            continue
        for sym in table.get_symbols():
            if sym.is_global() and sym.is_referenced():
                used.add(sym.get_name())
    return bound, used - bound


BUILTINS = set(dir(builtins)) | {"__name__", "__builtins__", "__file__", "__doc__"}


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks(page)]


def test_the_docs_have_examples() -> None:
    found = all_blocks()
    assert len(found) > 100
    assert any(b.kind == "doctest" and not b.hidden for b in found)


def group_blocks() -> Iterator[tuple[str, str, list[Block]]]:
    for path in PAGES:
        page_blocks = blocks(path)
        groups = {g for b in page_blocks for g in b.groups if g != "*"}
        for group in sorted(groups):
            members = [b for b in page_blocks if group in b.groups or "*" in b.groups]
            yield str(path.relative_to(DOCS)), group, members


@pytest.mark.parametrize(
    ("page", "group", "members"),
    [pytest.param(*g, id=f"{g[0]}[{g[1]}]") for g in group_blocks()],
)
def test_visible_examples_define_every_name_they_use(
    page: str, group: str, members: list[Block]
) -> None:
    defined = set(BUILTINS)
    problems = []
    for block in members:
        if block.hidden:
            continue
        for source in block.sources:
            bound, used = names(source)
            for name in sorted(used - defined):
                problems.append(
                    f"{block.where()}: {name!r} is used but no visible example before it defines it"
                )
            defined |= bound
    assert not problems, "\n".join(problems)


def _started_sandboxes(source: str) -> set[str]:
    """The names ``source`` binds to a started sandbox: ``sandbox = Sandbox().start()``."""
    started = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            call = node.value.func
            if (
                isinstance(call, ast.Attribute)
                and call.attr == "start"
                and isinstance(call.value, ast.Call)
                and isinstance(call.value.func, ast.Name)
                and call.value.func.id == "Sandbox"
            ):
                started |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return started


def _stopped(source: str) -> set[str]:
    return {
        node.func.value.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "stop"
        and isinstance(node.func.value, ast.Name)
    }


@pytest.mark.parametrize(
    ("page", "group", "members"),
    [pytest.param(*g, id=f"{g[0]}[{g[1]}]") for g in group_blocks()],
)
def test_every_sandbox_a_page_starts_it_stops_where_readers_see_it(
    page: str, group: str, members: list[Block]
) -> None:
    running: dict[str, str] = {}
    for block in members:
        if block.hidden:
            continue
        for source in block.sources:
            for name in _stopped(source):
                running.pop(name, None)
            running.update(dict.fromkeys(_started_sandboxes(source), block.where()))
    assert not running, f"started and never stopped: {running}"


def test_hidden_blocks_define_no_public_name() -> None:
    """A hidden block (a testsetup or testcleanup, a ``:hide:`` block) restores or checks what
    the examples leave behind; a name it defined would be one readers cannot see."""
    problems = []
    for block in all_blocks():
        if not block.hidden:
            continue
        for source in block.sources:
            bound, _ = names(source)
            public = sorted(n for n in bound if not n.startswith("_"))
            if public:
                problems.append(f"{block.where()}: a hidden block defines {public}")
    assert not problems, "\n".join(problems)


def _conf_string(name: str) -> str:
    tree = ast.parse((DOCS / "conf.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, str), name
            return value
    return ""


def _conf_value(name: str) -> object:
    tree = ast.parse((DOCS / "conf.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise LookupError(f"conf.py sets no {name}")


@pytest.mark.parametrize("setting", ["doctest_global_setup", "doctest_global_cleanup"])
def test_the_global_setup_defines_no_public_name(setting: str) -> None:
    bound, _ = names(_conf_string(setting))
    assert all(name.startswith("_") for name in bound), sorted(bound)


def _imported_modules(source: str) -> Iterator[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def is_private(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "shiptrack_sdk" and any(
        part.startswith("_") and not part.startswith("__") for part in parts[1:]
    )


def example_files() -> list[Path]:
    return sorted((DOCS / "examples").glob("*.py"))


def notebook_sources() -> Iterator[tuple[str, str]]:
    import json

    for path in sorted((DOCS / "examples").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for number, cell in enumerate(notebook["cells"], 1):
            if cell["cell_type"] == "code":
                yield f"{path.name} cell {number}", "".join(cell["source"])


def test_no_example_imports_a_private_module() -> None:
    problems = []
    for block in all_blocks():
        allowed = CONTRIBUTOR_IMPORTS if Path(block.page).name in CONTRIBUTOR_PAGES else set()
        for source in block.sources:
            for module in _imported_modules(source):
                if is_private(module) and module not in allowed:
                    problems.append(f"{block.where()}: imports {module}")
    sources = [(p.name, p.read_text(encoding="utf-8")) for p in example_files()]
    for where, source in [*sources, *notebook_sources()]:
        problems += [f"{where}: imports {m}" for m in _imported_modules(source) if is_private(m)]
    assert not problems, "\n".join(problems)


# -- the copy button, the docs extra, the notebook ------------------------------------------


def test_the_copy_button_strips_prompts() -> None:
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    assert '"sphinx_copybutton"' in conf
    assert _conf_value("copybutton_prompt_is_regexp") is True
    prompt = re.compile(str(_conf_value("copybutton_prompt_text")))
    for line, code in [
        (">>> client.close()", "client.close()"),
        ("... print(x)", "print(x)"),
        ("$ shiptrack sandbox", "shiptrack sandbox"),
    ]:
        match = prompt.match(line)
        assert match is not None, line
        assert line[match.end() :] == code
    assert _conf_value("copybutton_only_copy_prompt_lines") is True


def _extra(name: str) -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    text = config["options.extras_require"][name]
    return {
        re.split(r"[<>=;\[ ]", line.strip(), maxsplit=1)[0].lower()
        for line in text.splitlines()
        if line.strip()
    }


#: The extras whose features the docs' examples run; the docs extra holds them all.
EXTRAS_THE_DOCS_RUN = ["crypto", "pandas", "plot", "progress", "push", "schema", "profile"]


@pytest.mark.parametrize("extra", EXTRAS_THE_DOCS_RUN)
def test_the_docs_extra_holds_what_the_examples_run(extra: str) -> None:
    assert _extra(extra) <= _extra("docs")


def test_the_docs_extra_builds_and_executes() -> None:
    docs = _extra("docs")
    assert {"sphinx", "sphinx-copybutton", "nbclient", "nbconvert", "ipykernel"} <= docs
    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini", encoding="utf-8")
    assert tox["testenv:docs"]["extras"].strip() == "docs"
    commands = [line.strip() for line in tox["testenv:docs"]["commands"].splitlines()]
    assert any(c.startswith("sphinx-build -W") and "-b html" in c for c in commands)
    assert any(c.startswith("sphinx-build -W") and "-b doctest" in c for c in commands)


def test_the_notebook_is_executed_as_the_notebooks_page_says() -> None:
    page = (DOCS / "notebooks.rst").read_text(encoding="utf-8")
    shown = [line.strip()[2:] for line in page.splitlines() if line.strip().startswith("$ ")]
    assert 'python -m pip install -e ".[docs]"' in shown
    (execute,) = [c for c in shown if c.startswith("jupyter nbconvert")]
    assert "--execute docs/examples/tracking.ipynb" in execute
    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini", encoding="utf-8")
    commands = [line.strip() for line in tox["testenv:docs"]["commands"].splitlines()]
    assert execute in commands, "tox -e docs runs the command the page shows"


#: The extras a user installs; the others are the project's own (tests, CI, docs, lint).
DEVELOPMENT_EXTRAS = {"test", "ci", "docs", "lint"}


def _readme_section(title: str) -> str:
    text = (ROOT / "README.rst").read_text(encoding="utf-8")
    section = text.split(f"{title}\n{'-' * len(title)}\n", 1)[1]
    return re.split(r"\n\S[^\n]*\n-{3,}\n", section, maxsplit=1)[0]


def test_the_readme_installs_from_a_checkout_or_a_wheel_with_every_extra() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    extras = set(config["options.extras_require"]) - DEVELOPMENT_EXTRAS
    commands = [
        line.split("#")[0].strip()
        for line in _readme_section("Installation").splitlines()
        if line.startswith("    ")
    ]
    assert "python -m pip install ." in commands
    named = {
        e
        for c in commands
        for group in re.findall(r'"\.\[([a-z,]+)\]"', c)
        for e in group.split(",")
    }
    assert named == extras, f"the README's extras {sorted(named)} are not setup.cfg's"
    assert "python -m pip wheel --no-deps . -w dist" in commands
    assert any(
        c.startswith("python -m pip install") and "dist/shiptrack_sdk-" in c and "[crypto]" in c
        for c in commands
    )
    assert not any("pip install shiptrack-sdk" in c for c in commands), "not on an index yet"


def test_no_table_cell_holds_a_long_unbreakable_token() -> None:
    """A code literal or a URL without a space is as wide as it is long: past 45 characters,
    a table holding one is wider than the page."""
    problems = []
    for path in PAGES:
        lines = path.read_text(encoding="utf-8").splitlines()
        table_indent: int | None = None
        for number, line in enumerate(lines, 1):
            indent = len(line) - len(line.lstrip())
            if re.match(r"^\s*\.\. list-table::", line):
                table_indent = indent
                continue
            if table_indent is not None and line.strip() and indent <= table_indent:
                table_indent = None
            if table_indent is None:
                continue
            for literal, url in re.findall(r"``([^`]+)``|(https?://\S+)", line):
                token = literal or url
                if " " not in token and len(token) > 45:
                    problems.append(f"{path.relative_to(DOCS)}:{number}: {token}")
    assert not problems, "\n".join(problems)
