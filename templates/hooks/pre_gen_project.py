"""Refuse answers that would produce a project that cannot work.

Runs before any file is written. ``digwebs new`` checks its NAME argument
itself; this catches what was typed at the prompts (or passed to plain
``cookiecutter``).
"""

import keyword
import sys

slug = {{ cookiecutter.project_slug|tojson }}

if not slug.isidentifier() or keyword.iskeyword(slug) or not slug.isascii():
    print(
        f"Error: '{slug}' is not a valid project slug. Use lower-case letters, digits "
        "and underscores, starting with a letter (for example 'myblog').",
        file=sys.stderr,
    )
    sys.exit(1)
