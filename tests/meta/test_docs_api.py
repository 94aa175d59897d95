"""The API reference: one page per public module, each object documented once.

* every page documents one module, through ``.. api-module::`` (``docs/_ext/shiptrack_api.py``),
  and is in ``docs/api/index.rst``'s table of contents; the package, its modules and its
  packages each have one;
* no private module is documented as such: what a private module defines is documented under
  the public module that exports it (``shiptrack_sdk.lex.testing.OrdersPart``);
* every exported name is documented on exactly one page, but the internal hooks the
  extension names (``parse_error``, a sandbox's route handlers);
* an attrs default made by a factory renders as what it makes, never ``NOTHING``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path
from typing import Any

import attrs

import shiptrack_sdk
from tests.meta.test_docs_paste import DOCS, is_private

API = DOCS / "api"
_AUTO = re.compile(
    r"^\s*\.\. (?:auto(?:module|class|function|data|attribute|exception)|api-module)::\s*(\S+)",
    re.M,
)


def public_modules() -> list[str]:
    """Every public module of the package: no ``_`` in its dotted name."""
    found = ["shiptrack_sdk"]
    for info in pkgutil.walk_packages(shiptrack_sdk.__path__, "shiptrack_sdk."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            found.append(info.name)
    return sorted(found)


#: The modules of a provider's package (or a feature's) that are its plumbing, not its API: a
#: provider's spec (what the core reads, in adding a provider), its status map (rendered on the
#: status model page), its part of the command line (on the cli page); ``python -m``'s entry.
PLUMBING = ("spec", "status", "cli", "__main__", "pytest_plugin")


def needs_a_page(module: str) -> bool:
    """The package, each of its modules and packages (``shiptrack_sdk.bulk``,
    ``shiptrack_sdk.watch``), and each package inside those (``shiptrack_sdk.lex.push``) has a
    page; a module inside a package may, its names otherwise documented on its package's page."""
    if module.rpartition(".")[2] in PLUMBING:
        return False
    is_package = hasattr(importlib.import_module(module), "__path__")
    return module.count(".") <= 1 or is_package


def api_pages() -> list[Path]:
    return sorted(p for p in API.glob("*.rst") if p.name != "index.rst")


def test_the_api_reference_is_one_page_per_module() -> None:
    index = (API / "index.rst").read_text(encoding="utf-8")
    pages = api_pages()
    assert len(pages) > 10
    for page in pages:
        assert f"\n   {page.stem}\n" in index, f"{page.name} is not in api/index.rst's toctree"
        text = page.read_text(encoding="utf-8")
        modules = re.findall(r"^\.\. api-module:: (\S+)", text, re.M)
        assert modules == [page.stem], f"{page.name} must document {page.stem} alone: {modules}"
        assert not re.search(r"^\s*\.\. auto\w+::", text, re.M), page.name
    assert not _AUTO.findall(index), "api/index.rst is the table of contents only"
    documented = {p.stem for p in pages}
    missing = [m for m in public_modules() if m not in documented and needs_a_page(m)]
    assert not missing, (
        f"public modules without a page: {missing}; add docs/api/<module>.rst holding "
        "'.. api-module:: <module>' and list it in docs/api/index.rst"
    )


def test_the_api_reference_shows_no_private_module() -> None:
    problems = []
    for page in API.glob("*.rst"):
        for target in _AUTO.findall(page.read_text(encoding="utf-8")):
            if is_private(target):
                problems.append(f"{page.name}: {target}")
    assert not problems, problems


def _api_extension() -> Any:
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        return importlib.import_module("shiptrack_api")
    finally:
        sys.path.remove(str(DOCS / "_ext"))


def _pages() -> list[str]:
    return [p.stem for p in api_pages()]


def test_every_public_name_is_documented_once() -> None:
    """Each name a module with a page exports is documented on exactly one page (or is an
    internal hook the extension names, with why)."""
    api = _api_extension()
    pages = _pages()
    documented: dict[int, list[str]] = {}
    unplaced = []
    for page in pages:
        own, elsewhere = api.members(page, pages)
        module = importlib.import_module(page)
        for name in own:
            documented.setdefault(id(getattr(module, name)), []).append(f"{page}.{name}")
        exported = {
            n for n in getattr(module, "__all__", ()) if api.internal_reason(n, page, pages) is None
        }
        unplaced += [f"{page}.{n}" for n in exported - set(own) - set(elsewhere) - {"__version__"}]
    assert not unplaced, f"exported but documented nowhere: {unplaced}"
    twice = {names[0]: names for names in documented.values() if len(names) > 1}
    # A value (a number, a string) may be equal under two unrelated names; only objects count.
    twice = {k: v for k, v in twice.items() if not isinstance(api._import(k), (int, float, str))}
    assert not twice, twice


def test_objects_of_private_modules_are_documented_under_a_public_path() -> None:
    api = _api_extension()
    pages = _pages()
    from shiptrack_sdk.lex import testing

    assert api.home("OrdersPart", testing.OrdersPart, "shiptrack_sdk.lex.testing", pages) == (
        "shiptrack_sdk.lex.testing"
    )
    for name in ("MessageGenerator", "PushOutcome"):
        own, _ = api.members("shiptrack_sdk.lex.testing", pages)
        assert name in own
    own, elsewhere = api.members("shiptrack_sdk", pages)
    assert {"Timeout", "RetryPolicy", "ClientOptions"} <= set(own)  # from shiptrack_sdk._core
    assert elsewhere["ShiplemonClient"] == "shiptrack_sdk.shiplemon.client"
    assert elsewhere["Tracking"] == "shiptrack_sdk.models"


def test_internal_hooks_are_not_shown() -> None:
    api = _api_extension()
    pages = _pages()
    own, elsewhere = api.members("shiptrack_sdk.exporto.client", pages)
    assert "parse_error" not in own
    assert "parse_error" not in elsewhere
    own, _ = api.members("shiptrack_sdk.cli", pages)
    assert "main" in own
    assert "track_each" not in own
    from shiptrack_sdk.lex.testing import OrdersPart

    skip = api.skip_member
    assert skip(None, "class", "routes", OrdersPart.routes, False, {}) is True
    assert skip(None, "class", "post_message", OrdersPart.post_message, False, {}) is True
    assert skip(None, "class", "seed", OrdersPart.seed, False, {}) is None


def test_nothing_defaults_render_readably() -> None:
    api = _api_extension()
    process = api.process_signature

    @attrs.frozen
    class Example:
        name: str
        tags: tuple[str, ...] = attrs.field(factory=tuple)
        extra: dict[str, object] = attrs.field(factory=dict)
        _seen: list[str] = attrs.field(factory=list)

    raw = "(name, tags=NOTHING, extra=NOTHING, seen=NOTHING)"
    assert process(None, "class", "Example", Example, {}, raw, None) == (
        "(name, tags=(), extra={}, seen=[])",
        None,
    )
    assert process(None, "function", "f", len, {}, "(x, y=NOTHING)", "int") == ("(x, y=...)", "int")
    assert process(None, "function", "f", len, {}, "(x, y=1)", None) is None


def test_every_attrs_signature_of_the_api_renders_without_nothing() -> None:
    """What autodoc would show for each documented attrs class, through the hook."""
    api = _api_extension()
    pages = _pages()
    checked = 0
    for page in pages:
        module = importlib.import_module(page)
        for name in api.members(page, pages)[0]:
            obj = getattr(module, name)
            if inspect.isclass(obj) and attrs.has(obj):
                parameters = inspect.signature(obj).parameters.values()
                # As autodoc writes it with the type hints in the description: no annotations.
                bare = [p.replace(annotation=inspect.Parameter.empty) for p in parameters]
                signature = str(inspect.Signature(bare))
                result = api.process_signature(None, "class", name, obj, {}, signature, None)
                shown = signature if result is None else result[0]
                assert "NOTHING" not in shown, f"{page}.{name}{shown}"
                checked += 1
    assert checked > 30
