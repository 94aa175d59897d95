"""Write the offline fallback inventories for intersphinx.

The docs link to the Python, requests and attrs documentation through intersphinx. Where the
network is reachable, Sphinx reads each project's full ``objects.inv``; where it is not (CI
runs offline), it falls back to these small inventories of the objects the SDK's docs refer
to, so the links still resolve. Run ``python docs/_inventories/build.py`` after adding a name.
"""

from __future__ import annotations

import zlib
from pathlib import Path

HERE = Path(__file__).parent

# (name, domain:role, uri relative to the project's base URL)
PYTHON = (
    [
        (name, "py:class", f"library/{page}.html#{name}")
        for page, names in {
            "datetime": [
                "datetime.datetime",
                "datetime.date",
                "datetime.timezone",
                "datetime.timedelta",
            ],
            "collections.abc": [
                "collections.abc.Mapping",
                "collections.abc.Sequence",
                "collections.abc.Iterable",
                "collections.abc.Iterator",
                "collections.abc.Callable",
                "collections.abc.Generator",
            ],
            "typing": ["typing.Any", "typing.Protocol"],
            "pathlib": ["pathlib.Path"],
            "logging": ["logging.Logger"],
            "threading": ["threading.Lock"],
            "enum": ["enum.Enum"],
            "concurrent.futures": ["concurrent.futures.ThreadPoolExecutor"],
        }.items()
        for name in names
    ]
    + [
        (name, "py:exception", f"library/exceptions.html#{name}")
        for name in [
            "Exception",
            "ValueError",
            "TypeError",
            "KeyError",
            "RuntimeError",
            "ImportError",
            "OSError",
            "RecursionError",
        ]
    ]
    + [
        (name, "py:class", f"library/stdtypes.html#{name}")
        for name in [
            "str",
            "int",
            "float",
            "bool",
            "bytes",
            "dict",
            "list",
            "tuple",
            "frozenset",
            "set",
            "range",
        ]
    ]
    + [
        ("os.replace", "py:function", "library/os.html#os.replace"),
        ("pickle", "py:module", "library/pickle.html#module-pickle"),
        ("wsgiref", "py:module", "library/wsgiref.html#module-wsgiref"),
    ]
)

REQUESTS = [
    ("requests.Session", "py:class", "api/#requests.Session"),
    ("requests.Response", "py:class", "api/#requests.Response"),
    ("requests.PreparedRequest", "py:class", "api/#requests.PreparedRequest"),
    ("requests.Request", "py:class", "api/#requests.Request"),
    ("requests.auth.AuthBase", "py:class", "api/#requests.auth.AuthBase"),
    ("requests.auth.HTTPBasicAuth", "py:class", "api/#requests.auth.HTTPBasicAuth"),
    ("requests.adapters.HTTPAdapter", "py:class", "api/#requests.adapters.HTTPAdapter"),
    ("requests.RequestException", "py:exception", "api/#requests.RequestException"),
    ("requests.ConnectionError", "py:exception", "api/#requests.ConnectionError"),
    ("requests.Timeout", "py:exception", "api/#requests.Timeout"),
]

ATTRS = [
    ("attrs.frozen", "py:function", "api.html#attrs.frozen"),
    ("attrs.define", "py:function", "api.html#attrs.define"),
    ("attrs.field", "py:function", "api.html#attrs.field"),
    ("attrs.evolve", "py:function", "api.html#attrs.evolve"),
    ("attrs.asdict", "py:function", "api.html#attrs.asdict"),
    ("attrs.fields", "py:function", "api.html#attrs.fields"),
]


def write(path: Path, project: str, version: str, objects: list[tuple[str, str, str]]) -> None:
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    lines = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in objects)
    path.write_bytes(header + zlib.compress(lines.encode()))


if __name__ == "__main__":
    write(HERE / "python.inv", "Python", "3", PYTHON)
    write(HERE / "requests.inv", "Requests", "2", REQUESTS)
    write(HERE / "attrs.inv", "attrs", "25", ATTRS)
