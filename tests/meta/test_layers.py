"""The layers, checked: no import cycles, no oversized module, a core that knows no provider,
and provider resource modules that only declare endpoints.

* **No import cycles** among ``shiptrack_sdk`` modules, counting the imports that run when a
  module is imported; and none either once the imports deferred into functions are counted
  (moving an import into a function hides a cycle, it does not remove it). Imports under
  ``if TYPE_CHECKING:`` never run and are not counted.
* **No module over** :data:`MAX_LINES` lines.
* **The core knows no provider**: every module outside the provider packages imports none of
  them (at import time or in a function; type checkers' imports aside) and names none of their
  module paths in a string (the registry's ``SPECS`` list is the one place that does).
* **Endpoints are declared**: a provider's resource modules decode no JSON, build no error
  (but :class:`~shiptrack_sdk.errors.ValidationError`), reach for no transport, wait for
  nothing and send no HTTP of their own; the core does all of that.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType

import pytest

import shiptrack_sdk
from shiptrack_sdk import errors

PACKAGE = Path(shiptrack_sdk.__file__).parent
ROOT = PACKAGE.parent

#: The longest a module may be.
MAX_LINES = 600

#: Packages built on the providers, above the core: they use the providers' public API (the
#: watcher follows exporto's tours and forwards to LEX), and no core or provider module
#: imports them.
ABOVE_PROVIDERS = ("watch",)

#: Every sub-package of shiptrack_sdk is a provider, but the sandbox, private packages and
#: those built on the providers.
PROVIDERS = sorted(
    p.name
    for p in PACKAGE.iterdir()
    if (p / "__init__.py").is_file()
    and p.name != "sandbox"
    and p.name not in ABOVE_PROVIDERS
    and not p.name.startswith("_")
)


def module_name(path: Path) -> str:
    """``shiptrack_sdk/lex/__init__.py`` -> ``shiptrack_sdk.lex``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


#: Every module of the package, by dotted name.
MODULES: dict[str, Path] = {
    module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts
}


def provider_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in PROVIDERS else None


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_there_are_providers_and_modules() -> None:
    assert {"shiplemon", "exporto", "lex"} <= set(PROVIDERS)
    assert "_core" not in PROVIDERS
    assert "sandbox" not in PROVIDERS
    assert "shiptrack_sdk._core.transport" in MODULES
    assert "shiptrack_sdk.lex" in MODULES


# -- imports, resolved --------------------------------------------------------------------------


def resolve_from(node: ast.ImportFrom, importer: str, package: bool) -> str:
    """The absolute module of ``from <node.module> import ...`` written in ``importer``."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    # A package's own name is the base of ``.``; a module's is its package's.
    keep = len(base) - node.level + (1 if package else 0)
    base = base[:keep]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def import_nodes(tree: ast.AST, *, deferred: bool = False) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of ``tree`` that run: when the module is imported, or with
    ``deferred`` also later, in its functions. Those under ``if TYPE_CHECKING:`` never run:
    they give type checkers names, and are left out."""
    if isinstance(tree, (ast.Import, ast.ImportFrom)):
        yield tree
        return
    if isinstance(tree, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and not deferred:
        return
    if isinstance(tree, ast.If) and _is_type_checking(tree.test):
        for node in tree.orelse:
            yield from import_nodes(node, deferred=deferred)
        return
    for child in ast.iter_child_nodes(tree):
        yield from import_nodes(child, deferred=deferred)


def imported_names(
    nodes: Iterable[ast.Import | ast.ImportFrom], importer: str, package: bool
) -> Iterator[str]:
    """Every absolute module name ``nodes`` may import (``from a import b``: ``a`` and
    ``a.b``, which may be a submodule)."""
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        else:
            base = resolve_from(node, importer, package)
            yield base
            for alias in node.names:
                yield f"{base}.{alias.name}"


def import_edges(
    importer: str, source: str, package: bool, known: Iterable[str], *, deferred: bool = False
) -> set[str]:
    """The modules of ``known`` that importing ``importer`` imports at once (with
    ``deferred``, also those its functions import later).

    Importing ``a.b.c`` first imports the packages ``a`` and ``a.b``; those that enclose the
    importer itself are already being imported, so they are no edge (or every module would
    form a cycle with its own package).
    """
    modules = set(known)
    tree = ast.parse(source)
    nodes = import_nodes(tree, deferred=deferred)
    own_packages = {importer.rsplit(".", n)[0] for n in range(1, importer.count(".") + 1)}
    if package:
        own_packages.add(importer)
    edges: set[str] = set()
    for name in imported_names(nodes, importer, package):
        if name not in modules:
            continue
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            enclosing = ".".join(parts[:depth])
            if enclosing in modules and enclosing not in own_packages:
                edges.add(enclosing)
    edges.discard(importer)
    return edges


def import_graph(*, deferred: bool = False) -> dict[str, set[str]]:
    return {
        name: import_edges(
            name, path.read_text(encoding="utf-8"), is_package(path), MODULES, deferred=deferred
        )
        for name, path in MODULES.items()
    }


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) through each strongly connected group of ``graph``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0

    def visit(node: str) -> None:  # Tarjan's algorithm
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    found = []
    for group in groups:
        start = min(group)
        # The shortest way back to ``start`` inside the group.
        paths = {start: [start]}
        frontier = [start]
        cycle: list[str] | None = None
        while frontier and cycle is None:
            nxt = []
            for node in frontier:
                for target in sorted(graph.get(node, ())):
                    if target == start:
                        cycle = [*paths[node], start]
                        break
                    if target in group and target not in paths:
                        paths[target] = [*paths[node], target]
                        nxt.append(target)
                if cycle is not None:
                    break
            frontier = nxt
        assert cycle is not None
        found.append(cycle)
    return sorted(found)


def test_the_cycle_finder_itself() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert cycles(graph) == [["a", "b", "c", "a"], ["e", "e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_resolution_itself() -> None:
    known = {
        "pkg",
        "pkg.a",
        "pkg.b",
        "pkg.sub",
        "pkg.sub.c",
        "pkg.sub.d",
        "pkg.other",
        "pkg.other.e",
    }
    source = """
from __future__ import annotations
from typing import TYPE_CHECKING
from . import d
from .. import a
from ..other.e import X
import pkg.b
if TYPE_CHECKING:
    from ..b import Y
def later():
    from .. import b
try:
    from ..sub import c
except ImportError:
    pass
"""
    assert import_edges("pkg.sub.c", source, False, known) == {
        "pkg.sub.d",
        "pkg.a",
        "pkg.other",
        "pkg.other.e",
        "pkg.b",
    }
    # In a package's __init__, ``.`` is the package itself.
    assert import_edges("pkg.sub", "from . import c\nfrom .d import Z", True, known) == {
        "pkg.sub.c",
        "pkg.sub.d",
    }

    # Imports in functions run later, yet they run; those for type checkers never do.
    deferred = """
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from .d import Z
def later():
    from .. import a
"""
    assert import_edges("pkg.sub.c", deferred, False, known) == set()
    assert import_edges("pkg.sub.c", deferred, False, known, deferred=True) == {"pkg.a"}


def _shown(found: list[list[str]]) -> str:
    return "\n".join(
        " -> ".join(name.removeprefix("shiptrack_sdk.") or "shiptrack_sdk" for name in cycle)
        for cycle in found
    )


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles (module-level imports):\n" + _shown(found)


def test_no_import_cycles_hidden_in_functions() -> None:
    # An import moved into a function only hides a cycle: the two modules still need each
    # other, and whichever is imported first decides whether the call works.
    found = cycles(import_graph(deferred=True))
    assert found == [], "import cycles (counting imports in functions):\n" + _shown(found)


# -- module sizes -------------------------------------------------------------------------------


def test_no_module_is_too_long() -> None:
    long = {
        relative(path): lines
        for path in MODULES.values()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines: " + ", ".join(
        f"{name} ({lines})" for name, lines in sorted(long.items())
    )


# -- the core knows no provider -----------------------------------------------------------------

#: The modules named as core; every module outside the provider packages is checked (these and
#: any added later).
NAMED_CORE = [
    "shiptrack_sdk",
    "shiptrack_sdk._providers",
    "shiptrack_sdk.cli",
    "shiptrack_sdk.notebook",
    "shiptrack_sdk._render",
    "shiptrack_sdk.models",
    "shiptrack_sdk.errors",
    "shiptrack_sdk.auth",
    "shiptrack_sdk._core.transport",
    "shiptrack_sdk._core.client",
    "shiptrack_sdk.sandbox",
    "shiptrack_sdk.sandbox._server",
]


def above_providers(module: str) -> bool:
    parts = module.split(".")
    return len(parts) > 1 and parts[1] in ABOVE_PROVIDERS


CORE = sorted(name for name in MODULES if provider_of(name) is None and not above_providers(name))


def test_the_core_is_every_module_outside_the_providers() -> None:
    assert set(NAMED_CORE) <= set(CORE)
    assert all(name.startswith("shiptrack_sdk._core") for name in CORE if "._core" in name)
    assert {n for n in MODULES if n.startswith("shiptrack_sdk._core.")} <= set(CORE)
    assert {n for n in MODULES if n.startswith("shiptrack_sdk.sandbox.")} <= set(CORE)


def provider_pattern(providers: Iterable[str]) -> re.Pattern[str]:
    """A module path of a provider package: ``shiptrack_sdk.lex``, ``shiptrack_sdk.lex.push``,
    or relative to the root as ``importlib.import_module`` takes it, ``.lex.push``."""
    names = "|".join(re.escape(p) for p in providers)
    return re.compile(rf"(?:\bshiptrack_sdk|^)\.(?:{names})\b")


def _docstrings(tree: ast.AST) -> set[int]:
    """``id`` of every string constant that is documentation: a bare string statement."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found.add(id(node.value))
    return found


def _registry_strings(tree: ast.Module) -> set[int]:
    """``id`` of the string constants of a module-level ``SPECS = [...]`` (the registry)."""
    found: set[int] = set()
    for node in tree.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id == "SPECS" and value is not None:
            found.update(
                id(c)
                for c in ast.walk(value)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            )
    return found


def provider_knowledge(
    source: str,
    importer: str,
    *,
    package: bool,
    providers: Iterable[str],
    registry: bool = False,
) -> list[str]:
    """What ``source`` (the module ``importer``) knows of the providers: the provider modules it
    imports (at import time or in a function: not under ``if TYPE_CHECKING:``, which only names
    types for type checkers) and the string literals naming one (documentation aside; with
    ``registry``, the strings of its ``SPECS`` list aside)."""
    providers = list(providers)
    root = importer.split(".")[0]
    tree = ast.parse(source)
    problems: list[str] = []
    names = set(imported_names(import_nodes(tree, deferred=True), importer, package))
    for name in names:
        parts = name.split(".")
        if len(parts) < 2 or parts[0] != root or parts[1] not in providers:
            continue
        if len(parts) > 2 and ".".join(parts[:-1]) in names and name not in MODULES:
            continue  # ``from .lex import LexClient``: a name of shiptrack_sdk.lex, said once
        problems.append(f"imports {name}")
    pattern = provider_pattern(providers)
    allowed = _docstrings(tree) | (_registry_strings(tree) if registry else set())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in allowed
            and pattern.search(node.value)
        ):
            problems.append(f"line {node.lineno}: names {node.value!r}")
    return sorted(set(problems))


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from .lex import LexClient", ["imports shiptrack_sdk.lex"]),
        (
            "def f():\n    from .shiplemon.client import C",
            ["imports shiptrack_sdk.shiplemon.client"],
        ),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import shiptrack_sdk.exporto",
            [],
        ),
        ("from . import lex", ["imports shiptrack_sdk.lex"]),
        ("X = 'shiptrack_sdk.lex.spec:SPEC'", ["line 1: names 'shiptrack_sdk.lex.spec:SPEC'"]),
        ("X = {'ShiplemonClient': '.shiplemon'}", ["line 1: names '.shiplemon'"]),
        ("def f(p):\n    return f'shiptrack_sdk.lex.{p}'", ["line 2: names 'shiptrack_sdk.lex.'"]),
        ('"""Uses shiptrack_sdk.lex, for instance."""', []),
        ("def f(p):\n    return f'shiptrack_sdk.{p}.spec'", []),
        ("X = 'the lex provider'", []),
        ("X = 'shiptrack_sdk.lexicon'", []),
        ("from ._core.spec import load\nfrom .errors import E", []),
    ],
)
def test_the_provider_knowledge_check_itself(source: str, found: list[str]) -> None:
    problems = provider_knowledge(
        source, "shiptrack_sdk", package=True, providers=["lex", "shiplemon", "exporto"]
    )
    assert problems == sorted(found)


def test_the_registry_may_name_providers_in_its_specs_only() -> None:
    source = "SPECS: list[str] = ['shiptrack_sdk.lex.spec:SPEC']\nOTHER = 'shiptrack_sdk.lex'"
    problems = provider_knowledge(
        source, "shiptrack_sdk._providers", package=False, providers=["lex"], registry=True
    )
    assert problems == ["line 2: names 'shiptrack_sdk.lex'"]


@pytest.mark.parametrize("module", CORE, ids=lambda m: m.removeprefix("shiptrack_sdk.") or "root")
def test_core_module_knows_no_provider(module: str) -> None:
    path = MODULES[module]
    problems = provider_knowledge(
        path.read_text(encoding="utf-8"),
        module,
        package=is_package(path),
        providers=PROVIDERS,
        registry=module == "shiptrack_sdk._providers",
    )
    assert problems == [], f"{relative(path)} knows a provider: {problems}"


def test_nothing_below_imports_what_is_built_on_the_providers() -> None:
    # The command line composes ``shiptrack watch`` by reference, as it composes providers.
    graph = import_graph(deferred=True)
    found = sorted(
        f"{importer} imports {target}"
        for importer, targets in graph.items()
        if not above_providers(importer)
        for target in targets
        if above_providers(target)
    )
    assert found == []


# -- endpoints are declared ---------------------------------------------------------------------


def provider_modules(provider: str) -> Iterator[ModuleType]:
    package = importlib.import_module(f"shiptrack_sdk.{provider}")
    yield package
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        yield importlib.import_module(info.name)


def resource_bases() -> tuple[type, ...]:
    """The core's ``Resource`` class(es): what every group of endpoints subclasses, wherever in
    :mod:`shiptrack_sdk._core` it is defined."""
    core = importlib.import_module("shiptrack_sdk._core")
    bases: dict[int, type] = {}
    for info in pkgutil.walk_packages(core.__path__, prefix="shiptrack_sdk._core."):
        found = getattr(importlib.import_module(info.name), "Resource", None)
        if isinstance(found, type):
            bases[id(found)] = found
    assert bases, "no Resource class in shiptrack_sdk._core"
    return tuple(bases.values())


def resource_modules() -> list[str]:
    """The modules of the provider packages that define a subclass of the core's
    ``Resource``."""
    bases = resource_bases()
    found = []
    for provider in PROVIDERS:
        for module in provider_modules(provider):
            if any(
                issubclass(cls, bases) and cls not in bases and cls.__module__ == module.__name__
                for _, cls in inspect.getmembers(module, inspect.isclass)
            ):
                found.append(module.__name__)
    return sorted(found)


try:
    RESOURCE_MODULES = resource_modules()
except Exception as exc:  # the package does not import: one failing test says why
    RESOURCE_MODULES = [f"<import failed: {type(exc).__name__}: {exc}>"]


def error_names() -> set[str]:
    """Names of every ShiptrackError class a resource module must not build: all but
    ValidationError (provider packages imported, so theirs count too)."""
    for provider in PROVIDERS:
        for _ in provider_modules(provider):
            pass
    names: set[str] = set()
    pending: list[type] = [errors.ShiptrackError]
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    names.discard("ValidationError")
    return names


def _dotted(node: ast.expr) -> list[str]:
    """``a.b.c`` -> ``["a", "b", "c"]`` (``[]`` when not names and attributes)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return []
    parts.append(node.id)
    return parts[::-1]


def endpoint_problems(source: str, error_classes: Iterable[str]) -> list[str]:
    """What ``source`` does that a module of declared endpoints leaves to the core."""
    tree = ast.parse(source)
    errors_built = set(error_classes)
    # Local names bound by imports: ``import json as j`` -> {"j": "json"},
    # ``from json import loads`` -> {"loads": "json.loads"}.
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def qualified(node: ast.expr) -> str:
        parts = _dotted(node)
        if not parts:
            return ""
        head = aliases.get(parts[0], parts[0])
        return ".".join([head, *parts[1:]])

    problems: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "_transport":
            problems.add(f"line {node.lineno}: uses ._transport (send through the endpoint)")
        if isinstance(node, (ast.Attribute, ast.Name)) and qualified(node) == "time.sleep":
            problems.add(f"line {node.lineno}: uses time.sleep (waiting is the core's job)")
        if not isinstance(node, ast.Call):
            continue
        name = qualified(node.func)
        if name in ("json.loads", "json.dumps", "json.load", "json.dump"):
            problems.add(f"line {node.lineno}: calls {name} (the core decodes and encodes)")
        elif name.startswith("requests."):
            problems.add(f"line {node.lineno}: calls {name} (the core sends)")
        else:
            parts = _dotted(node.func)
            if parts and parts[-1] in errors_built:
                problems.add(
                    f"line {node.lineno}: builds {parts[-1]} (the core builds errors from answers)"
                )
    return sorted(problems, key=lambda p: (int(p.split(":")[0].split()[1]), p))


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import json\njson.loads(b)", True),
        ("import json as j\nj.dumps(x)", True),
        ("from json import loads\nloads(b)", True),
        ("from ..errors import ResponseError\nraise ResponseError('x')", True),
        ("from .. import errors\nraise errors.APIError('x', status=500)", True),
        ("from ..errors import ValidationError\nraise ValidationError('a', 'b')", False),
        ("def f(self):\n    return self._transport.request('GET', 'x')", True),
        ("def f(self):\n    return self._client._transport", True),
        ("import time\ntime.sleep(1)", True),
        ("from time import sleep\nsleep(1)", True),
        ("import requests\nrequests.get('https://x')", True),
        ("import requests\ns = requests.Session()", True),
        ("import requests\ndef f(r: requests.Response) -> None: ...", False),
        ("def get(self, sid):\n    return self._get(f'x/{sid}', Model)", False),
        (
            "from ..errors import ResponseError\ntry:\n    f()\nexcept ResponseError:\n    pass",
            False,
        ),
    ],
)
def test_the_endpoint_check_itself(source: str, found: bool) -> None:
    problems = endpoint_problems(source, {"ResponseError", "APIError", "ShiptrackError"})
    assert bool(problems) is found, problems


def test_there_are_resource_modules() -> None:
    assert "shiptrack_sdk.shiplemon.tracking" in RESOURCE_MODULES
    assert any(provider_of(m) == "lex" for m in RESOURCE_MODULES)


@pytest.mark.parametrize("module", RESOURCE_MODULES, ids=lambda m: m.removeprefix("shiptrack_sdk."))
def test_resource_module_only_declares_endpoints(module: str) -> None:
    assert not module.startswith("<"), module
    path = Path(importlib.import_module(module).__file__ or "")
    problems = endpoint_problems(path.read_text(encoding="utf-8"), error_names())
    assert problems == [], f"{relative(path)}:\n  " + "\n  ".join(problems)
