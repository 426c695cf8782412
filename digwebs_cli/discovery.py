"""Find and import the WSGI application of a project.

Used by ``digwebs serve`` (inside each worker process, and by ``--check`` in a
child process) and by ``digwebs routes``. Every failure is a
:class:`~digwebs_cli.errors.DigwebsCliError` with a one-line message that says
what went wrong and where, never a traceback.

Where the app comes from, first match wins:

1. the ``--app`` option (``MODULE``, ``MODULE:ATTR`` or ``MODULE:FACTORY()``);
2. the ``DIGWEBS_APP`` environment variable (same syntax);
3. ``wsgiapp.py`` in the current folder, which means ``wsgiapp:app``.

When ``ATTR`` is left out, the module's ``app`` is used, else its only
:class:`digwebs.Digwebs` instance, else the app returned by its
``create_app()`` factory.

The project folder is the current folder. Its ``.env`` file, if any, is read
by :func:`load_env_file` before the command reads any option or variable
(``digwebs`` calls it for ``serve``, ``routes`` and ``shell``), so a
``DIGWEBS_APP``, ``DIGWEBS_ENV``, ``DIGWEBS_SERVE_PORT`` or
``DIGWEBS_SECRET_KEY`` written there counts as if it had been exported,
unless the real environment already has that variable.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
import traceback
import typing as t
from pathlib import Path

from digwebs_cli._messages import one_line as _one_line
from digwebs_cli._messages import short_path as _short_path
from digwebs_cli.errors import DigwebsCliError

if t.TYPE_CHECKING:  # pragma: no cover
    from digwebs import Digwebs

__all__ = [
    "ENV_FILE",
    "check_module_exists",
    "describe_location",
    "find_import_string",
    "forget_env_files",
    "load_app",
    "load_env_file",
    "split_import_string",
]

ENV_VAR = "DIGWEBS_APP"
DEFAULT_MODULE_FILE = "wsgiapp.py"
DEFAULT_IMPORT_STRING = "wsgiapp:app"
FACTORY_NAMES = ("create_app", "make_app")

_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_ATTR = re.compile(r"^[A-Za-z_]\w*(\(\))?$")


# --------------------------------------------------------------------------
# The project's .env file

ENV_FILE = ".env"

# folder -> the variables its .env set in os.environ (empty: none, or no file)
_loaded_env_files: dict[Path, dict[str, str]] = {}


def load_env_file(folder: Path) -> dict[str, str]:
    """Read ``folder/.env`` into ``os.environ``; return the variables it set.

    Once per folder and process: the second call returns the first answer and
    reads nothing. A variable that is already in the environment keeps its
    value (real environment variables win over the file), so the result holds
    only the names the file supplied. The syntax is python-dotenv's, as in
    Flask: ``KEY=value``, ``export KEY=value``, quotes, ``# comments`` and
    ``${OTHER}`` references. A line that does not parse, or a file that is not
    UTF-8, is a one-line :class:`DigwebsCliError` naming the line: a setting
    that is silently dropped would be worse.
    """
    key = Path(folder).resolve()
    if key in _loaded_env_files:
        return dict(_loaded_env_files[key])
    path = key / ENV_FILE
    shown = _short_path(str(path), Path.cwd())
    if not path.is_file():
        _loaded_env_files[key] = {}
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DigwebsCliError(f"{shown} is not UTF-8 text (line {line})") from None
    except OSError as exc:
        raise DigwebsCliError(f"cannot read {shown}: {exc.strerror or exc}") from None
    try:
        import io

        from dotenv import dotenv_values
        from dotenv.parser import parse_stream
    except ImportError:
        raise DigwebsCliError(
            f"reading {shown} needs python-dotenv: pip install python-dotenv"
        ) from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            first = binding.original.string.strip().splitlines()[0][:60]
            raise DigwebsCliError(
                f"{shown} line {binding.original.line} is not KEY=VALUE: {first!r}"
            )
    loaded: dict[str, str] = {}
    for name, value in dotenv_values(stream=io.StringIO(text), interpolate=True).items():
        # "NAME" alone (no "=") has no value: python-dotenv gives None.
        if value is not None and name not in os.environ:
            os.environ[name] = loaded[name] = value
    _loaded_env_files[key] = loaded
    return dict(loaded)


def forget_env_files() -> None:
    """Forget which ``.env`` files were read (for tests); the variables stay set."""
    _loaded_env_files.clear()


# --------------------------------------------------------------------------
# Finding the import string


def find_import_string(app_option: str | None, cwd: Path) -> str:
    """Return the ``module:attr`` (or ``module``) import string of the app.

    ``--app`` wins over ``DIGWEBS_APP``, which wins over ``wsgiapp.py`` in
    ``cwd``. A file path (``src/site.py``) is accepted and turned into a
    module name relative to ``cwd``.
    """
    for source, value in (("--app", app_option), (ENV_VAR, os.environ.get(ENV_VAR))):
        if value is not None and value.strip():
            return _normalise(value.strip(), source, Path(cwd))
        if value is not None:
            raise DigwebsCliError(f"{source} is empty: give MODULE:ATTR, e.g. wsgiapp:app")
    if (Path(cwd) / DEFAULT_MODULE_FILE).is_file():
        return DEFAULT_IMPORT_STRING
    raise DigwebsCliError(
        f"no app to serve in {cwd}: there is no {DEFAULT_MODULE_FILE} here; "
        f"run from the project folder, pass --app MODULE:ATTR or set {ENV_VAR}"
    )


def _normalise(value: str, source: str, cwd: Path) -> str:
    module, sep, attr = value.partition(":")
    module = module.strip()
    attr = attr.strip()
    if module.endswith(".py") or "/" in module or os.sep in module:
        module = _module_from_path(module, source, cwd)
    if not _DOTTED.match(module) or (sep and not _ATTR.match(attr)):
        raise DigwebsCliError(
            f"{source} {value!r} is not an import string: expected MODULE:ATTR, "
            "e.g. wsgiapp:app or mysite.web:create_app()"
        )
    return f"{module}:{attr}" if sep else module


def _module_from_path(path_text: str, source: str, cwd: Path) -> str:
    path = Path(path_text)
    if not path.is_absolute():
        path = cwd / path
    if path.suffix != ".py" or not path.is_file():
        raise DigwebsCliError(f"{source} {path_text!r}: no such Python file")
    try:
        rel = path.resolve().relative_to(Path(cwd).resolve())
    except ValueError:
        raise DigwebsCliError(
            f"{source} {path_text!r} is outside {cwd}: run from the project folder"
        ) from None
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def split_import_string(import_string: str) -> tuple[str, str | None]:
    """``"pkg.mod:attr"`` -> ``("pkg.mod", "attr")``; ``"pkg.mod"`` -> ``("pkg.mod", None)``."""
    module, sep, attr = import_string.partition(":")
    module, attr = module.strip(), attr.strip()
    if not _DOTTED.match(module) or (sep and not _ATTR.match(attr)):
        raise DigwebsCliError(
            f"{import_string!r} is not an import string: expected MODULE:ATTR, e.g. wsgiapp:app"
        )
    return module, (attr if sep else None)


def check_module_exists(import_string: str, cwd: Path) -> None:
    """Raise the "module not found" error of :func:`load_app` without importing anything.

    Runs no code of the project (not even a package's ``__init__``), so it is
    safe in the master process of ``digwebs serve``, where the app must never
    be imported.
    """
    from importlib.machinery import PathFinder

    module_name, _ = split_import_string(import_string)
    if module_name in sys.modules:
        return
    parts = module_name.split(".")
    search: list[str] | None = [str(cwd), *(p for p in sys.path if p != str(cwd))]
    for depth in range(len(parts)):
        spec = PathFinder.find_spec(".".join(parts[: depth + 1]), search)
        if spec is None and len(parts) == 1:
            try:  # built-in and frozen modules, or anything a meta path hook provides
                import importlib.util

                if importlib.util.find_spec(module_name) is not None:
                    return
            except (ImportError, ValueError):
                pass
        if spec is None:
            raise DigwebsCliError(_not_found(module_name, cwd))
        search = list(spec.submodule_search_locations or [])
        if not search and depth < len(parts) - 1:
            raise DigwebsCliError(_not_found(module_name, cwd))


def _not_found(module_name: str, cwd: Path) -> str:
    return (
        f"module {module_name!r} not found in {cwd}: check --app / {ENV_VAR}, "
        "or run from the project folder"
    )


# --------------------------------------------------------------------------
# Loading


def load_app(import_string: str, cwd: Path) -> Digwebs:
    """Import the app named by ``import_string`` with ``cwd`` first on ``sys.path``.

    A :class:`digwebs.Digwebs` app is returned loaded (``app.load()``, which
    imports its controllers); any other WSGI callable is returned as it is.
    """
    module_name, attr = split_import_string(import_string)
    cwd = Path(cwd)
    cwd_text = str(cwd)
    if cwd_text not in sys.path:
        sys.path.insert(0, cwd_text)
    module = _import_module(module_name, cwd)

    if attr is None:
        app, where = _find_app(module, module_name, cwd)
    elif attr.endswith("()"):
        app, where = _call_factory(module, module_name, attr[:-2], cwd)
    else:
        if not hasattr(module, attr):
            raise DigwebsCliError(
                f"module {module_name!r} ({describe_location(module, cwd)}) has no attribute "
                f"{attr!r}{_hint_candidates(module, module_name)}"
            )
        app, where = getattr(module, attr), f"{module_name}:{attr}"
        if _is_factory(app):
            app, where = _call_factory(module, module_name, attr, cwd)

    _check_wsgi(app, where)
    digwebs_cls = _digwebs_class()
    if digwebs_cls is not None and isinstance(app, digwebs_cls):
        load = getattr(app, "load", None)
        if callable(load):
            try:
                load()
            except DigwebsCliError:
                raise
            except Exception as exc:  # the project's code raised while loading
                raise DigwebsCliError(
                    f"loading the app {where} failed: {_one_line(exc)} ({_where_raised(exc, cwd)})"
                ) from None
    return t.cast("Digwebs", app)


def _import_module(module_name: str, cwd: Path) -> t.Any:
    try:
        return importlib.import_module(module_name)
    except SyntaxError as exc:
        raise DigwebsCliError(
            f"importing {module_name!r} failed: SyntaxError: {exc.msg} "
            f"({_short_path(exc.filename, cwd)}:{exc.lineno})"
        ) from None
    except DigwebsCliError:
        raise
    except (Exception, SystemExit) as exc:  # ImportError and anything the module raised
        missing = (exc.name or "") if isinstance(exc, ModuleNotFoundError) else ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise DigwebsCliError(_not_found(module_name, cwd)) from None
        raise DigwebsCliError(
            f"importing {module_name!r} failed: {_one_line(exc)} ({_where_raised(exc, cwd)})"
        ) from None


def _find_app(module: t.Any, module_name: str, cwd: Path) -> tuple[t.Any, str]:
    if getattr(module, "app", None) is not None:
        return module.app, f"{module_name}:app"
    digwebs_cls = _digwebs_class()
    if digwebs_cls is not None:
        found = [
            name
            for name, value in vars(module).items()
            if not name.startswith("__") and isinstance(value, digwebs_cls)
        ]
        if len(found) == 1:
            return getattr(module, found[0]), f"{module_name}:{found[0]}"
        if len(found) > 1:
            names = ", ".join(sorted(found))
            raise DigwebsCliError(
                f"module {module_name!r} has several Digwebs apps ({names}): "
                f"pick one with --app {module_name}:NAME"
            )
    for name in FACTORY_NAMES:
        if callable(getattr(module, name, None)):
            return _call_factory(module, module_name, name, cwd)
    raise DigwebsCliError(
        f"module {module_name!r} has no app: define app = Digwebs(...) or a create_app() "
        f"factory in it, or pass --app {module_name}:NAME"
    )


def _call_factory(module: t.Any, module_name: str, name: str, cwd: Path) -> tuple[t.Any, str]:
    factory = getattr(module, name, None)
    where = f"{module_name}:{name}()"
    if factory is None:
        raise DigwebsCliError(
            f"module {module_name!r} has no attribute {name!r}"
            f"{_hint_candidates(module, module_name)}"
        )
    if not callable(factory):
        raise DigwebsCliError(f"{module_name}:{name} is not callable, so it is not an app factory")
    try:
        return factory(), where
    except DigwebsCliError:
        raise
    except Exception as exc:
        if isinstance(exc, TypeError) and _called_with_wrong_arguments(exc):
            raise DigwebsCliError(
                f"the app factory {where} needs arguments: {_one_line(exc)}"
            ) from None
        raise DigwebsCliError(
            f"the app factory {where} failed: {_one_line(exc)} ({_where_raised(exc, cwd)})"
        ) from None


def _called_with_wrong_arguments(exc: TypeError) -> bool:
    tb = exc.__traceback__
    # raised by the call itself (not from inside the factory): a single frame
    return tb is not None and tb.tb_next is None


def _is_factory(obj: t.Any) -> bool:
    """A plain function that takes no arguments is a factory, not a WSGI app."""
    if not inspect.isfunction(obj):
        return False
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return False
    try:
        sig.bind()
    except TypeError:
        return False
    try:
        sig.bind({}, None)
    except TypeError:
        return True
    return False


def _check_wsgi(app: t.Any, where: str) -> None:
    if inspect.isclass(app):
        raise DigwebsCliError(
            f"{where} is the class {app.__name__}, not an app: create one, "
            f"e.g. app = {app.__name__}()"
        )
    if inspect.ismodule(app):
        raise DigwebsCliError(f"{where} is a module, not a WSGI application")
    if not callable(app):
        raise DigwebsCliError(
            f"{where} is a {type(app).__name__}, not a WSGI application "
            "(a callable taking environ and start_response)"
        )
    if inspect.isfunction(app) or inspect.ismethod(app):
        try:
            inspect.signature(app).bind({}, None)
        except TypeError:
            raise DigwebsCliError(
                f"{where} is a function that cannot be called as a WSGI application "
                "with (environ, start_response)"
            ) from None
        except ValueError:
            pass


def _hint_candidates(module: t.Any, module_name: str) -> str:
    found: list[str] = []
    digwebs_cls = _digwebs_class()
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value) or inspect.isclass(value):
            continue
        if digwebs_cls is not None and isinstance(value, digwebs_cls):
            found.append(f"{module_name}:{name}")
        elif name in FACTORY_NAMES and callable(value):
            found.append(f"{module_name}:{name}()")
    return f" (it has {', '.join(found)})" if found else ""


def _digwebs_class() -> type | None:
    try:
        from digwebs import Digwebs
    except Exception:  # the runtime is missing or broken: any WSGI callable will do
        return None
    return t.cast(type, Digwebs)


# --------------------------------------------------------------------------
# Where an error was raised


def _where_raised(exc: BaseException, cwd: Path) -> str:
    """``file:line`` of the project code that raised ``exc`` (else the deepest frame)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{_short_path(exc.filename, cwd)}:{exc.lineno}"
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen")
    ]
    if not frames:
        return "<unknown file>"
    root = str(Path(cwd).resolve())
    own = [f for f in frames if os.path.abspath(f.filename).startswith(root + os.sep)]
    frame = (own or frames)[-1]
    return f"{_short_path(frame.filename, cwd)}:{frame.lineno}"


def describe_location(module: t.Any, cwd: Path) -> str:
    """The module's file, relative to ``cwd`` when inside it."""
    return _short_path(getattr(module, "__file__", None), cwd)
