"""Sphinx configuration for shiptrack-sdk."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))
# The reliability page renders its tables from the test suite's own data (tests/reliability).
sys.path.insert(0, str(HERE.parent))

from shiptrack_sdk import __version__  # noqa: E402

project = "shiptrack-sdk"
author = "shiptrack-sdk contributors"
copyright = "2026, shiptrack-sdk contributors"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "sphinx.ext.intersphinx",
    "shiptrack_docs",
    "shiptrack_notebook",
]

html_theme = "furo"
html_title = f"shiptrack-sdk {release}"
exclude_patterns = ["_build", "examples/*.ipynb"]
nitpicky = False

autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Links to Python, requests and attrs. Each project's own inventory is read when the network
# is reachable; offline (CI), a small fallback inventory of the objects these docs name is used
# (docs/_inventories/build.py), so the links resolve either way.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", (None, "_inventories/python.inv")),
    "requests": ("https://requests.readthedocs.io/en/latest", (None, "_inventories/requests.inv")),
    "attrs": ("https://www.attrs.org/en/stable", (None, "_inventories/attrs.inv")),
}
intersphinx_timeout = 3

# Every code example in the docs runs against the embedded sandbox. A page may point the
# clients at it through the environment (``os.environ.update(sandbox.environment())``); the
# environment is restored after each page, so no page sees another's variables.
doctest_global_setup = """
import os as _os
from shiptrack_sdk.sandbox import Sandbox
_saved_environ = dict(_os.environ)
sandbox = Sandbox().start()
"""
doctest_global_cleanup = """
sandbox.stop()
for _name in set(_os.environ) - set(_saved_environ):
    del _os.environ[_name]
_os.environ.update(_saved_environ)
"""
