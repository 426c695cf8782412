"""URL rules, converters and the router.

The package, one concept a module: :mod:`.converters` (what a parameter
matches and how it is written back), :mod:`.rules` (a pattern parsed into
steps, and URL building), :mod:`.tree` (the segment tree and the generic
walk that searches it), :mod:`.compiler` (the same walk written out as one
Python function, what the application matches with) and :mod:`.router`
(rules, names, ``match`` and ``build``). Every public name is importable
from ``digwebs.routing`` itself.

Matching cost does not grow with the number of routes: a path made only of
static text is one dict lookup; any other path walks a segment tree whose
nodes hold a dict of static children (tried first) and a list of dynamic
children ordered from most to least specific. The order, and which rule wins
when several could match, is werkzeug's ``StateMachineMatcher``'s:

* a static segment beats any parameter; among parameters, a segment with
  more static text beats one with less (``<name>.json`` before ``<name>``),
  then one with more parameters, then the converter of lower ``weight``
  (uuid 40, int 50, float 60, string 100, path 200);
* a ``<path:...>`` parameter and everything after it in the rule are one
  step that takes the rest of the path, matched as one regular expression:
  ``/<path:p>/edit`` answers ``/a/b/edit`` with ``p='a/b'`` however it is
  ordered against ``/<path:p>``, and ``/<a>/<b>`` answers ``/he/he`` before
  ``/<path:x>`` is tried;
* rules of one shape share a tree node (``/u/<a>`` and ``/u/<b>``); for each
  method the first registered rule of a node wins;
* the first branch (in that order) that ends where the path ends and has a
  rule for the method wins; one that only has rules for other methods
  records them for the 405's ``Allow`` and the search goes on; one whose
  slash-terminated twin has a rule for the method is a 308 to that URL
  (``GET /bar`` -> ``/bar/`` even when ``/bar`` has a POST rule).

Since rules of a shape share nodes, a thousand routes under
``/repos/<owner>/<repo>/...`` still cost one step per path segment. The
application matches with :meth:`Router.compile`, the first branch of that
walk written out as Python source, which leaves every other case to the
walk. Where digwebs differs from werkzeug: converters are tried while
walking, so a value one refuses (an int past Python's digit limit) lets the
next alternative try instead of ending in a 404; an explicit HEAD
rule beats a GET rule's implicit HEAD; OPTIONS follows a trailing-slash
redirect like the method it asks about.

A path that does not start with ``/`` (``*`` of ``OPTIONS *``, the
``host:port`` of ``CONNECT``, an empty string) is never routed: the router
answers "no rule" (``None`` from :meth:`Router.lookup`, :class:`NotFound`
from :meth:`Router.match`), never a redirect or a 405.
"""

from __future__ import annotations

# Not in __all__, as before the package, but imported by the rest of digwebs.
from .converters import DEFAULT_CONVERTERS as DEFAULT_CONVERTERS
from .converters import (
    Converter,
    FloatConverter,
    IntConverter,
    PathConverter,
    StringConverter,
    UUIDConverter,
)
from .router import Router
from .rules import BuildError, Rule
from .rules import method_names as method_names

__all__ = [
    "Converter",
    "StringConverter",
    "IntConverter",
    "FloatConverter",
    "UUIDConverter",
    "PathConverter",
    "Rule",
    "Router",
    "BuildError",
]
