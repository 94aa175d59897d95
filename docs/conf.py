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
    "sphinx_copybutton",
    "shiptrack_api",
    "shiptrack_docs",
    "shiptrack_notebook",
]

html_theme = "furo"
html_title = f"shiptrack-sdk {release}"
exclude_patterns = ["_build", "examples/*.ipynb"]
nitpicky = False

# The API reference is one page per public module (docs/api/<module>.rst), each written as
# ``.. api-module::`` (docs/_ext/shiptrack_api.py), which gives autodoc the module's own names:
# no default ``members``, so an object is documented once, on its module's page.
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}
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

# The copy button copies a doctest's or a shell session's commands without their prompts
# (``>>> ``, ``... ``, ``$ ``) and without the output lines, so what is copied runs as pasted.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
# The prompts stay in the text the regular expression reads (not excluded as Pygments' ``.gp``),
# so the lines without one (a doctest's expected output) are left out.
copybutton_exclude = ".linenos"

# Every example creates what it uses, as a reader pasting it into a fresh interpreter does
# (``sandbox = Sandbox().start()``, imports). The global setup defines no name an example can
# use: it only saves the environment, which is restored after each page (a page may point the
# clients at its sandbox with ``os.environ.update(sandbox.environment())``), so no page sees
# another's variables. tests/meta/test_docs_paste.py checks both.
doctest_global_setup = """
import os as _os
_saved_environ = dict(_os.environ)
"""
doctest_global_cleanup = """
for _name in set(_os.environ) - set(_saved_environ):
    del _os.environ[_name]
_os.environ.update(_saved_environ)
"""
