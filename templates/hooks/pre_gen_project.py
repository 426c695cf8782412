"""Refuse answers that would produce a project that cannot work.

Runs before any file is written. ``digwebs new`` checks NAME and every answer
itself, as each is given; this catches what was typed at the prompts of
plain ``cookiecutter``.
"""

import keyword
import sys

slug = {{ cookiecutter.project_slug|python }}
title = {{ cookiecutter.title|python }}


def fail(message):
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(1)


if not slug.isidentifier() or keyword.iskeyword(slug) or not slug.isascii():
    fail(
        f"'{slug}' is not a valid project slug. Use lower-case letters, digits "
        "and underscores, starting with a letter (for example 'myblog')."
    )
if not title.strip():
    fail("the title cannot be empty: every page shows it.")
