"""Sphinx configuration of the digwebs documentation site.

Built with ``make docs`` (``sphinx-build -W``: a warning fails the build)
into ``build/docs/``. Pages are Markdown (MyST); the API reference comes
from the docstrings (autodoc) and the command-line reference from the click
definitions (sphinx-click), so neither can drift from the code.
"""

from __future__ import annotations

import os
import sys

# The checkout itself, so autodoc imports this digwebs even outside a venv
# that installed it.
sys.path.insert(0, os.path.abspath(".."))

import digwebs  # noqa: E402

project = "digwebs"
author = "digwebs developers"
copyright = "digwebs developers"  # noqa: A001 - the name Sphinx reads
release = digwebs.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "sphinx_click",
]

# CONTRACT.md and ARCHITECTURE.md are the team's internal notes, linked from
# the repository, not pages of the site.
exclude_patterns = ["_build", "CONTRACT.md", "ARCHITECTURE.md", "README.md"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True}
# Type hints name classes autodoc cannot always resolve (typing internals,
# private aliases); a missing cross-reference target is not a broken page.
nitpicky = False

# The click help texts and docstrings are plain text with `code` in single
# backticks: show them as code, and keep "--deploy" from becoming an en dash.
default_role = "literal"
smartquotes = False

html_theme = "furo"
html_title = f"digwebs {release}"
html_static_path = ["_static"]
html_show_sourcelink = False
pygments_style = "friendly"
