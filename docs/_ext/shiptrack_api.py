"""The API reference: one page per public module, each object documented once.

``.. api-module:: shiptrack_sdk.lex.orders`` documents a module: its docstring, then the names of
its ``__all__`` that live there. A name lives in the module that defines it when that module has
a page (``docs/api/<module>.rst``); a name defined in a private module lives on the page of the
public module that re-exports it (``shiptrack_sdk.lex.testing.OrdersPart``). The names a module
re-exports from elsewhere are listed after its docstring, each linked to where it is documented,
so a package's page says what it offers without repeating it.

The same rules keep the reference readable:

* internal hooks are not shown: :data:`INTERNAL` names them, with why;
* an attrs field whose default is a factory shows that factory's result in its class's
  signature (``tags=()``), not attrs' ``NOTHING`` sentinel (:func:`process_signature`);
* a cross-reference to an object by any public path it is importable from
  (``shiptrack_sdk.exporto.ToursResource``) finds the page that documents it
  (:func:`resolve_reexport`).
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
import sys
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

#: What ``shiptrack_sdk.cli`` exports for the providers' command-line parts.
_CLI_HELPERS = (
    "Commands",
    "Demo",
    "date_arg",
    "error_line",
    "exit_code",
    "export_lines",
    "format_table",
    "port_arg",
    "print_trackings",
    "time_arg",
    "track_each",
    "tracking_json",
    "write_json",
)

#: Public names that are hooks for the SDK's own machinery, not API for its users, with why.
INTERNAL: dict[str, dict[str, str]] = {
    "shiptrack_sdk.exporto.client": {
        "parse_error": "the provider spec's error-body parser, called by the core",
    },
    "shiptrack_sdk.lex.client": {
        "parse_error": "the provider spec's error-body parser, called by the core",
        "PROVIDER": "the provider's registry name, read by the core",
    },
    "shiptrack_sdk.cli": dict.fromkeys(
        _CLI_HELPERS, "a helper for a provider's command-line part (see adding a provider)"
    ),
    "shiptrack_sdk.sandbox": {
        "SandboxApp": "the base of a provider's sandbox app (see adding a provider)",
    },
}

#: Attributes of a class that are a sandbox's route handlers or wiring, never called by a user.
INTERNAL_MEMBERS = frozenset({"routes", "list_messages", "post_message", "introspect"})

API_DIR = "api"


def _page_modules(srcdir: Path) -> list[str]:
    """The modules that have a page: ``docs/api/<module>.rst``."""
    return sorted(p.stem for p in (srcdir / API_DIR).glob("shiptrack_sdk*.rst"))


@functools.cache
def _assigned_names(module_name: str) -> frozenset[str]:
    """The names a module's own top-level code assigns (not those it imports)."""
    module = importlib.import_module(module_name)
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return frozenset()
    found: set[str] = set()
    for node in tree.body:
        targets: Iterable[ast.expr] = ()
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            found.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return frozenset(found)


def defining_module(name: str, obj: Any, exporter: str) -> str:
    """The module that defines ``obj``, known in ``exporter`` as ``name``."""
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return str(obj.__module__)
    # A value (a constant, a table): the module whose own code assigns it.
    candidates = [
        module_name
        for module_name, module in list(sys.modules.items())
        if module_name.split(".")[0] == "shiptrack_sdk"
        and getattr(module, name, None) is obj
        and name in _assigned_names(module_name)
    ]
    return min(candidates, key=len) if candidates else exporter


def home(name: str, obj: Any, exporter: str, pages: Iterable[str]) -> str | None:
    """The page module that documents ``obj`` (``name`` in ``exporter``), or ``None``."""
    pages = list(pages)
    defining = defining_module(name, obj, exporter)
    if defining in pages:
        return defining
    exporters = []
    for page in pages:
        module = importlib.import_module(page)
        if name in getattr(module, "__all__", ()) and getattr(module, name, None) is obj:
            exporters.append(page)
    if not exporters:
        return None

    def closeness(page: str) -> tuple[int, int]:
        shared = 0
        for a, b in zip(page.split("."), defining.split("."), strict=False):
            if a != b:
                break
            shared += 1
        return shared, page.count(".")

    return max(exporters, key=closeness)


def internal_reason(name: str, module_name: str, pages: Iterable[str]) -> str | None:
    """Why ``name`` of ``module_name`` is an internal hook, not shown (``None``: it is shown)."""
    if name in INTERNAL.get(module_name, {}):
        return INTERNAL[module_name][name]
    obj = getattr(importlib.import_module(module_name), name)
    where = home(name, obj, module_name, pages)
    return INTERNAL.get(where, {}).get(name) if where is not None else None


def members(module_name: str, pages: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """(the names documented on ``module_name``'s page, the re-exported names → their page)."""
    pages = list(pages)
    module = importlib.import_module(module_name)
    own: list[str] = []
    elsewhere: dict[str, str] = {}
    for name in getattr(module, "__all__", ()):
        if name.startswith("_") or internal_reason(name, module_name, pages) is not None:
            continue
        where = home(name, getattr(module, name), module_name, pages)
        if where == module_name:
            own.append(name)
        elif where is not None:
            elsewhere[name] = where
    return own, elsewhere


def _role(obj: Any) -> str:
    if inspect.isclass(obj):
        return "exc" if issubclass(obj, BaseException) else "class"
    if inspect.isfunction(obj):
        return "func"
    return "data"


class ApiModuleDirective(SphinxDirective):
    """``.. api-module:: shiptrack_sdk.lex.orders``: the module, documented by autodoc.

    The directive's content, if any, is shown after the module's docstring, before its names.
    """

    required_arguments = 1
    has_content = True
    option_spec = {"exclude-members": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        module_name = self.arguments[0]
        pages = _page_modules(Path(self.env.srcdir))
        if module_name not in pages:
            raise self.error(f"api-module: {module_name} has no page {API_DIR}/{module_name}.rst")
        own, elsewhere = members(module_name, pages)
        excluded = {n.strip() for n in self.options.get("exclude-members", "").split(",")}
        own = [name for name in own if name not in excluded]
        lines = [f".. automodule:: {module_name}"]
        lines.append(f"   :members: {', '.join(own)}" if own else "   :no-members:")
        lines.append("")
        lines += [f"   {line}" if line else "" for line in self.content]
        lines.append("")
        if elsewhere:
            # After the docstring, before the module's own names: what else it offers, by the
            # page that documents it.
            module = importlib.import_module(module_name)
            by_page: dict[str, list[str]] = {}
            for name, where in elsewhere.items():
                role = _role(getattr(module, name))
                by_page.setdefault(where, []).append(f":py:{role}:`{name} <{where}.{name}>`")
            lines += ["   .. rubric:: Also importable from here", ""]
            lines += [f"   * :doc:`{where}`: {', '.join(refs)}" for where, refs in by_page.items()]
            lines.append("")
        for page in pages:  # a re-export moving to another page moves this page's list
            path = getattr(sys.modules.get(page), "__file__", None)
            if path:
                self.env.note_dependency(path)
        holder = nodes.section()
        holder.document = self.state.document
        self.state.nested_parse(StringList(lines, source=self.get_source_info()[0]), 0, holder)
        return list(holder.children)


def skip_member(app: Any, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    """Skip a sandbox's route handlers and an object's private hooks; decide nothing else."""
    if what in ("class", "exception") and name in INTERNAL_MEMBERS:
        return True
    return None


def process_bases(app: Any, name: str, obj: Any, options: Any, bases: list[Any]) -> None:
    """Say nothing of ``object`` as a base: "Bases: object" tells a reader nothing."""
    bases[:] = [base for base in bases if base is not object]


#: ``name=NOTHING`` in a signature: attrs' sentinel for a default made by a factory.
_NOTHING = re.compile(r"\b(\w+)=NOTHING\b")

#: The factories whose result reads as a literal.
_EMPTY = {list: "[]", dict: "{}", tuple: "()", set: "set()", frozenset: "frozenset()"}


def _factory_text(factory: Any) -> str:
    if factory in _EMPTY:
        return _EMPTY[factory]
    name = getattr(factory, "__qualname__", "")
    return f"{name}()" if name and "<" not in name else "..."


def process_signature(
    app: Any,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """Write an attrs factory default as what the factory makes (``tags=()``, ``extra={}``,
    ``at=utcnow()``), and any other ``NOTHING`` as ``...``; leave other signatures alone."""
    if not signature or "NOTHING" not in signature:
        return None
    defaults: dict[str, str] = {}
    if inspect.isclass(obj) and attrs.has(obj):
        for field in attrs.fields(obj):
            if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
                alias = getattr(field, "alias", None) or field.name.lstrip("_")
                defaults[alias] = (
                    "..."
                    if field.default.takes_self  # type: ignore[union-attr]
                    else _factory_text(field.default.factory)  # type: ignore[union-attr]
                )
    readable = _NOTHING.sub(lambda m: f"{m[1]}={defaults.get(m[1], '...')}", signature)
    return readable, return_annotation


@functools.cache
def _documented_by_identity(objects: tuple[str, ...]) -> dict[int, str]:
    """id(object) → the name it is documented under, for classes, functions and members."""
    found: dict[int, str] = {}
    for name in objects:
        obj = _import(name)
        if obj is not None and _has_identity(obj):
            found.setdefault(id(obj), name)
    return found


def _has_identity(obj: Any) -> bool:
    # A number or a string is the same object under unrelated names; a class, a function, a
    # property or a slot is not.
    return not isinstance(obj, (int, float, str, bytes, bool, tuple, frozenset)) and (
        inspect.isclass(obj)
        or inspect.isroutine(obj)
        or isinstance(obj, property)
        or inspect.isdatadescriptor(obj)
    )


def _import(path: str) -> Any:
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        break
    else:
        return None
    for part in parts[i:]:
        if inspect.isclass(value) and part in value.__dict__:
            value = value.__dict__[part]  # the property or slot itself, not its value
        else:
            value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _candidates(node: Any) -> list[str]:
    """The full paths a reference may mean: as written, or relative to the module (and class)
    it is written in, as the Python domain reads ``:class:`PushWSGIApp``` in a docstring."""
    target = node.get("reftarget", "").lstrip(".~")
    if target.startswith("shiptrack_sdk."):
        return [target]
    module, cls = node.get("py:module"), node.get("py:class")
    found = []
    if module and cls:
        found.append(f"{module}.{cls}.{target}")
    if module:
        found.append(f"{module}.{target}")
    return [path for path in found if path.startswith("shiptrack_sdk.")]


def _documented_name(path: str, env: Any) -> str | None:
    """The name the object at ``path`` is documented under, if it is documented."""
    domain = env.get_domain("py")
    by_identity = _documented_by_identity(tuple(sorted(domain.objects)))
    obj = _import(path)
    if obj is None or (_has_identity(obj) and id(obj) not in by_identity):
        # An attribute known from its class's docstring or an ``__init__`` comment, not as an
        # object of its own: its class's documented name, and the attribute's.
        parts = path.split(".")
        for i in range(len(parts) - 1, 1, -1):
            owner = _import(".".join(parts[:i]))
            name = by_identity.get(id(owner)) if inspect.isclass(owner) else None
            if name is not None:
                attribute = ".".join([name, *parts[i:]])
                return attribute if attribute in domain.objects else None
        return None
    if _has_identity(obj):
        return by_identity[id(obj)]
    # A value (a constant) named through a module that re-exports it.
    exporter, _, attr = path.rpartition(".")
    if isinstance(_import(exporter), types.ModuleType):
        where = home(attr, obj, exporter, _page_modules(Path(env.srcdir)))
        if where is not None and f"{where}.{attr}" in domain.objects:
            return f"{where}.{attr}"
    return None


def resolve_reexport(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """A Python cross-reference that names an object by another public path than the one it
    is documented under (``shiptrack_sdk.exporto.ToursResource``, or ``PushWSGIApp`` in the
    docstring of the package that re-exports it) resolves to its documentation."""
    if node.get("refdomain") != "py":
        return None
    for path in _candidates(node):
        name = _documented_name(path, env)
        if name is not None and name != path:
            domain = env.get_domain("py")
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], name, node, contnode
            )
    return None


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("api-module", ApiModuleDirective)
    app.connect("autodoc-skip-member", skip_member)
    app.connect("autodoc-process-signature", process_signature)
    app.connect("autodoc-process-bases", process_bases)
    app.connect("missing-reference", resolve_reexport)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
