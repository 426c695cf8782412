"""Loading: a project's ``middlewares/`` and ``controllers/`` imported and registered.

:meth:`Digwebs.load <digwebs.Digwebs.load>` calls :func:`load`. The
decorators of :mod:`digwebs.decorators` and :func:`digwebs.middleware`
only mark functions; here every module of the two packages is imported
fresh (this project's own, first on ``sys.path``) and what it marks is
registered on the application, in the order it is written in each module.

What was registered is described here too: :class:`RouteInfo`, a row of
the route table (:meth:`Digwebs.routes <digwebs.Digwebs.routes>`,
``digwebs routes``), and :class:`MatchResult`.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

from .chains import MiddlewareInfo
from .context import _cv_loading_app
from .local import LocalProxy

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .routing import Rule

__all__ = ["MatchResult", "RouteInfo", "load"]

# Middlewares first, so that a controller module's import sees them registered.
PACKAGES = ("middlewares", "controllers")


def load(app: Digwebs) -> Digwebs:
    """Import ``app``'s ``middlewares/`` and ``controllers/`` and register what they mark.

    Returns ``app``. Loading twice does nothing the second time. While the
    modules are imported, ``current_app`` is ``app`` (module-level code may
    read its config).
    """
    if app._loaded:
        return app
    app._loaded = True
    token = _cv_loading_app.set(app)
    try:
        for package in PACKAGES:
            for module in import_package(app.root_path, package):
                register_marked(app, module)
    finally:
        _cv_loading_app.reset(token)
    return app


def import_package(root_path: str, package: str) -> list[t.Any]:
    """Import the package ``root_path/package`` and every module under it, fresh.

    Returns the modules, the package first, then by name; ``[]`` when the
    folder does not exist.
    """
    folder = Path(root_path, package)
    if not folder.is_dir():
        return []
    # First on sys.path, so that another project's root listed earlier
    # cannot supply its own package of the same name.
    if sys.path[:1] != [root_path]:
        if root_path in sys.path:
            sys.path.remove(root_path)
        sys.path.insert(0, root_path)
    # Another project (or an earlier load) may have left a package of the
    # same name in sys.modules; import this project's own, fresh, so that
    # module-level registration runs against this application.
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    pkg = importlib.import_module(package)
    modules = [pkg]
    for info in sorted(pkgutil.walk_packages(pkg.__path__, package + "."), key=lambda i: i.name):
        modules.append(importlib.import_module(info.name))
    return modules


def register_marked(app: Digwebs, module: t.Any) -> None:
    """Register on ``app`` the middleware and routes ``module`` defines and marks.

    Only functions defined in ``module`` itself (not imported into it),
    in the order of their first line, so registration follows the source.
    """
    found = []
    for value in vars(module).values():
        if isinstance(value, LocalProxy) or getattr(value, "__module__", None) != module.__name__:
            continue
        code = getattr(inspect.unwrap(value), "__code__", None)
        line = code.co_firstlineno if code else 0
        found.append((line, value))
    for _, fn in sorted(found, key=lambda item: item[0]):
        marks = getattr(fn, "__digwebs_middleware__", None)
        if marks is not None:
            app.use(fn, order=marks["order"], prefix=marks["prefix"])
        for path, methods, name in getattr(fn, "__digwebs_routes__", ()):
            app.add_route(path, fn, methods, name)


@dataclass(frozen=True)
class RouteInfo:
    """One row of the route table, as ``digwebs routes`` shows it."""

    methods: tuple[str, ...]
    path: str
    name: str
    handler: t.Callable[..., t.Any]
    handler_name: str
    file: str
    line: int
    renders: str  # "view" | "json" | "other"
    template: str | None
    middleware: tuple[MiddlewareInfo, ...]


@dataclass(frozen=True)
class MatchResult:
    """What :meth:`Digwebs.match` found: the route and the values of its parameters."""

    route: RouteInfo
    params: dict[str, t.Any]


def route_info(app: Digwebs, rule: Rule, fn: t.Callable[..., t.Any]) -> RouteInfo:
    """Describe the route ``rule`` of ``app`` with handler ``fn``, every link outermost first."""
    target = inspect.unwrap(fn)
    code = getattr(target, "__code__", None)
    template = getattr(fn, "__digwebs_view__", None)
    renders = "view" if template else "json" if getattr(fn, "__digwebs_api__", False) else "other"
    chain = [e.info for e in app._ordered_middleware() if e.info.prefix is None]
    chain += [info for _, info in app._route_middleware(rule, fn)]
    return RouteInfo(
        methods=tuple(sorted(rule.methods)),
        path=rule.path,
        name=t.cast(str, rule.name),
        handler=fn,
        handler_name=f"{target.__module__}.{target.__qualname__}",
        file=code.co_filename if code else "?",
        line=code.co_firstlineno if code else 0,
        renders=renders,
        template=template,
        middleware=tuple(chain),
    )
