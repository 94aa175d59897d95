"""The registry of providers: one line per provider, naming the module that holds its spec.

Everything shared (the package root, the sandbox, the command line, the docs tables, the
cross-provider test suites) reads this registry and names no provider itself. A provider adds
one line here; everything else it needs lives in its own package.
"""

from __future__ import annotations

from collections.abc import Iterator

from ._core.spec import ProviderSpec, load

__all__ = ["SPECS", "all_specs", "spec"]

#: ``"module:SPEC"`` of each provider, in the order they are listed to users.
SPECS: list[str] = [
    "shiptrack_sdk.shiplemon.spec:SPEC",
    "shiptrack_sdk.exporto.spec:SPEC",
    "shiptrack_sdk.lex.spec:SPEC",
]


def all_specs() -> Iterator[ProviderSpec]:
    """Every registered provider's spec, in registry order."""
    for reference in SPECS:
        found: ProviderSpec = load(reference)
        yield found


def spec(name: str) -> ProviderSpec:
    """The spec of the provider called ``name``.

    Raises:
        ValidationError: no provider is called so.
    """
    for found in all_specs():
        if found.name == name:
            return found
    from .errors import ValidationError

    names = ", ".join(repr(s.name) for s in all_specs())
    raise ValidationError("provider", f"{name!r} is not one of {names}")
