"""The architecture, checked: the core knows no provider; providers send no HTTP of their own
and define no retries; every provider has a status map (or says why not), a guide and sandbox
routes; every endpoint method names its route; the package ships ``py.typed``."""

from __future__ import annotations

import ast
import configparser
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import shiptrack_sdk
from shiptrack_sdk._core.status import StatusMap
from shiptrack_sdk.sandbox import Sandbox
from tests.meta.test_layers import resource_bases

PACKAGE = Path(shiptrack_sdk.__file__).parent
ROOT = PACKAGE.parent
GUIDES = ROOT / "docs" / "guides"

#: The shared core: it must not know any provider.
CORE = [
    "_core/transport",
    "_core/client",
    "_core/convert",
    "_core/status",
    "_core/progress",
    "models",
    "errors",
    "auth",
    "sandbox/_server",
    "sandbox/pytest_plugin",
]

#: Every directory under shiptrack_sdk that is a package, but the sandbox and the packages built
#: on the providers (``watch``), is a provider.
PROVIDERS = sorted(
    p.name
    for p in PACKAGE.iterdir()
    if (p / "__init__.py").is_file()
    and p.name not in ("sandbox", "watch")
    and not p.name.startswith("_")
)


def test_there_are_providers() -> None:
    assert "shiplemon" in PROVIDERS


def provider_modules(provider: str) -> Iterator[Path]:
    yield from sorted((PACKAGE / provider).glob("*.py"))


def is_sandbox_module(path: Path) -> bool:
    # A provider's sandbox routes are the provider's server side, not the SDK's client side.
    return path.name.startswith("_sandbox")


def imported_modules(tree: ast.AST, package: str) -> Iterator[tuple[str, list[str]]]:
    """``(absolute module, names)`` of every import in ``tree`` (``package`` resolves dots)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield module, names
            for name in names:  # ``from . import shiplemon``
                yield f"{module}.{name}", []


# -- the core knows no provider ---------------------------------------------------------------


@pytest.mark.parametrize("module", CORE)
def test_core_imports_no_provider(module: str) -> None:
    path = PACKAGE / f"{module}.py"
    package = "shiptrack_sdk" + ("." + module.rsplit("/", 1)[0] if "/" in module else "")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for imported, _ in imported_modules(tree, package):
        for provider in PROVIDERS:
            knows = imported == f"shiptrack_sdk.{provider}" or imported.startswith(
                f"shiptrack_sdk.{provider}."
            )
            assert not knows, f"{module}.py imports {imported}: the core must not know {provider}"


def test_import_resolution_helper_sees_relative_provider_imports() -> None:
    # The check above would miss nothing a core module could write.
    tree = ast.parse("from ..shiplemon import X\nfrom . import lex\nimport shiptrack_sdk.exporto")
    found = [m for m, _ in imported_modules(tree, "shiptrack_sdk.sandbox")]
    assert "shiptrack_sdk.shiplemon" in found
    assert "shiptrack_sdk.sandbox.lex" in found
    assert "shiptrack_sdk.exporto" in found
    tree = ast.parse("from .shiplemon.client import Y")
    assert next(m for m, _ in imported_modules(tree, "shiptrack_sdk")) == (
        "shiptrack_sdk.shiplemon.client"
    )


# -- providers send no HTTP of their own and define no retries --------------------------------

#: HTTP clients a provider module must not use: every request goes through the core's transport.
HTTP_MODULES = ("urllib3", "http.client", "urllib.request", "httpx", "aiohttp", "pycurl")
#: Retry libraries: retrying is the core's job.
RETRY_MODULES = ("tenacity", "backoff", "retrying", "urllib3.util.retry")
#: What ``from requests import ...`` may bring into a provider module: types for annotations.
REQUESTS_TYPES = {"Response", "PreparedRequest", "Request", "Session", "auth", "structures"}


def _call_root(node: ast.Call) -> list[str]:
    """``requests.adapters.HTTPAdapter(...)`` -> ``["requests", "adapters", "HTTPAdapter"]``."""
    parts: list[str] = []
    func: ast.expr = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return parts[::-1]


def http_and_retry_problems(source: str, *, sandbox: bool) -> list[str]:
    problems = []
    tree = ast.parse(source)
    for module, names in imported_modules(tree, "shiptrack_sdk.provider"):
        if not sandbox and module.startswith(HTTP_MODULES):
            problems.append(f"imports {module}")
        if module.startswith(RETRY_MODULES):
            problems.append(f"imports {module}")
        if module == "requests" and not sandbox:
            problems.extend(f"imports requests.{n}" for n in names if n not in REQUESTS_TYPES)
        if module == "time" and "sleep" in names and not sandbox:
            problems.append("imports time.sleep")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            root = _call_root(node)
            if not sandbox and root[:1] == ["requests"]:
                problems.append(f"calls {'.'.join(root)}() (send through the client's transport)")
            if not sandbox and root == ["time", "sleep"]:
                problems.append("calls time.sleep() (waiting to retry is the core's job)")
            if root[-1:] in (["HTTPAdapter"], ["Retry"]):
                problems.append(f"builds {root[-1]} (retries and pools are the core's job)")
    return problems


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import requests\nrequests.get('https://x')", True),
        ("import requests\ns = requests.Session()", True),
        ("from requests import post", True),
        ("import urllib3", True),
        ("import time\ntime.sleep(1)", True),
        ("from time import sleep", True),
        ("from requests.adapters import HTTPAdapter\nHTTPAdapter(max_retries=3)", True),
        ("import tenacity", True),
        ("import requests\ndef f(r: requests.Response) -> None: ...", False),
        ("from .._http import RetryPolicy\nRetryPolicy(max_retries=2)", False),
    ],
)
def test_the_http_check_itself(source: str, found: bool) -> None:
    assert bool(http_and_retry_problems(source, sandbox=False)) is found


@pytest.mark.parametrize(
    "path",
    [p for provider in PROVIDERS for p in provider_modules(provider)],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_provider_modules_send_no_http_and_define_no_retries(path: Path) -> None:
    problems = http_and_retry_problems(
        path.read_text(encoding="utf-8"), sandbox=is_sandbox_module(path)
    )
    assert problems == [], f"{path.parent.name}/{path.name}: {problems}"


# -- every provider: a status map, a guide, sandbox routes ------------------------------------


def provider_submodules(provider: str) -> list[ModuleType]:
    package = importlib.import_module(f"shiptrack_sdk.{provider}")
    modules = [package]
    for info in pkgutil.iter_modules(package.__path__):
        modules.append(importlib.import_module(f"shiptrack_sdk.{provider}.{info.name}"))
    return modules


def status_maps(provider: str) -> dict[str, StatusMap]:
    """Every StatusMap of the provider, by the dotted path of the module that defines it."""
    found: dict[int, tuple[str, StatusMap]] = {}
    # Deepest module last: a map re-exported by the package keeps its defining module's name.
    for module in sorted(provider_submodules(provider), key=lambda m: m.__name__.count(".")):
        for name, value in vars(module).items():
            if isinstance(value, StatusMap):
                found[id(value)] = (f"{module.__name__}.{name}", value)
    return dict(found.values())


def guide_pages(provider: str) -> list[Path]:
    return sorted([*GUIDES.glob(f"{provider}.rst"), *GUIDES.glob(f"{provider}-*.rst")], key=str)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_has_a_status_map_or_says_why_not(provider: str) -> None:
    maps = status_maps(provider)
    if not maps:
        package = importlib.import_module(f"shiptrack_sdk.{provider}")
        documented = [package.__doc__ or ""] + [
            p.read_text(encoding="utf-8") for p in guide_pages(provider)
        ]
        assert any("no status map" in text.lower() for text in documented), (
            f"{provider} has no StatusMap; say 'no status map' and why in its package "
            "docstring or its guide page"
        )
        return
    rendered = (ROOT / "docs" / "status-model.rst").read_text(encoding="utf-8")
    for page in guide_pages(provider):
        rendered += page.read_text(encoding="utf-8")
    for dotted, status_map in maps.items():
        assert status_map.provider == provider, dotted
        assert len(status_map) > 0, dotted
        assert f".. status-map:: {dotted}" in rendered, f"{dotted} is not rendered in the docs"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_has_a_guide_page(provider: str) -> None:
    pages = guide_pages(provider)
    assert pages, f"docs/guides/{provider}.rst (or {provider}-*.rst) is missing"
    index = (ROOT / "docs" / "index.rst").read_text(encoding="utf-8")
    for page in pages:
        assert f"guides/{page.stem}" in index, f"{page.name} is not in the docs' toctree"
        assert "Where the documentation is silent" in page.read_text(encoding="utf-8"), page.name


@pytest.fixture(scope="module")
def route_names() -> list[str]:
    return Sandbox().route_names


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_has_sandbox_routes(provider: str, route_names: list[str]) -> None:
    assert any(name.startswith(f"{provider}.") for name in route_names), (
        f"no sandbox route named {provider}.*"
    )


def test_route_names_are_unique(route_names: list[str]) -> None:
    assert len(route_names) == len(set(route_names))


# -- every endpoint method names its route ----------------------------------------------------

#: ``GET /path`` (or ``POST: /path``), or quoted as a literal: ````GET tour/{tourId}````.
ROUTE = re.compile(
    r"\b(GET|POST|PUT|DELETE|PATCH):? +/\S+|``(GET|POST|PUT|DELETE|PATCH):? +[^`\s]+``"
)
#: A public resource method that sends nothing says so (a local check, for instance).
LOCAL_ONLY = re.compile(r"without sending|sends nothing", re.IGNORECASE)


def resource_methods() -> Iterator[tuple[str, str, str]]:
    bases = resource_bases()  # the core's Resource, wherever in shiptrack_sdk._core it is
    for provider in PROVIDERS:
        for module in provider_submodules(provider):
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(cls, bases)
                    and cls not in bases
                    and cls.__module__ == module.__name__
                ):
                    for name, member in vars(cls).items():
                        if inspect.isfunction(member) and not name.startswith("_"):
                            yield (
                                f"{cls.__module__}.{cls.__qualname__}.{name}",
                                name,
                                (inspect.getdoc(member) or ""),
                            )


def test_there_are_resource_methods() -> None:
    names = [qualified for qualified, _, _ in resource_methods()]
    assert "shiptrack_sdk.shiplemon.tracking.TrackingResource.get" in names
    assert "shiptrack_sdk.shiplemon.tracking.TrackingResource.update" in names


@pytest.mark.parametrize(
    ("qualified", "doc"),
    [(q, d) for q, _, d in resource_methods()],
    ids=[q.removeprefix("shiptrack_sdk.") for q, _, _ in resource_methods()],
)
def test_every_resource_method_names_its_route(qualified: str, doc: str) -> None:
    if LOCAL_ONLY.search(doc):
        assert not ROUTE.search(doc.split("\n\n")[0]), qualified
        return
    assert ROUTE.search(doc), f"{qualified}'s docstring names no route (e.g. 'GET /path')"


@pytest.mark.parametrize(
    ("doc", "ok"),
    [
        ("Tracking. ``GET /public/v1/shipments/{id}/tracking``.", True),
        ("Send. POST: /lex-shipmenttracking-v1/shipment-tracking", True),
        ("One tour. ``GET tour/{tourId}``.", True),
        ("Get the tour.", False),
        ("Posts a message.", False),
    ],
)
def test_the_route_pattern_itself(doc: str, ok: bool) -> None:
    assert bool(ROUTE.search(doc)) is ok


def test_shiplemon_docstrings_name_their_exact_routes() -> None:
    from shiptrack_sdk.shiplemon.tracking import TrackingResource

    assert "GET /public/v1/shipments/{id}/tracking" in (TrackingResource.get.__doc__ or "")
    assert "PUT /v1/shipments/{id}/tracking" in (TrackingResource.update.__doc__ or "")


# -- packaging --------------------------------------------------------------------------------


def test_py_typed_is_shipped() -> None:
    assert (PACKAGE / "py.typed").is_file()
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert "py.typed" in config["options.package_data"]["shiptrack_sdk"]


def test_public_modules_declare_all() -> None:
    for name in ("errors", "models", "auth", "_core.transport", "_core.client", "_core.convert"):
        module = importlib.import_module(f"shiptrack_sdk.{name}")
        assert module.__all__, name
        for exported in module.__all__:
            assert hasattr(module, exported), f"{name}.{exported}"
    for exported in shiptrack_sdk.__all__:
        assert hasattr(shiptrack_sdk, exported), exported
