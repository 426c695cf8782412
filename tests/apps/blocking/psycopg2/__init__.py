"""A stand-in for psycopg2: just the wait-callback API psycogreen uses."""

from . import extensions  # noqa: F401
