"""The project's config as the command line reads it, and where each value was set.

:func:`load_project_config` is :func:`digwebs.config.load_config` for one
environment, read in the ``digwebs`` process without importing the app
(``digwebs serve``'s master, ``digwebs check``, ``digwebs deploy``);
:func:`read_server_config` is its ``[server]`` table. The ``*_source``
functions name where a value was set, as ``--print-config`` and the error
messages say it: ``DIGWEBS_<KEY>`` (``NAME (.env)`` when the project's
``.env`` set it), ``config/<env>.toml``, ``config/default.toml`` or
``default``.
"""

from __future__ import annotations

import os
import secrets
import tomllib
import typing as t
from pathlib import Path

from digwebs_cli.errors import DigwebsCliError

if t.TYPE_CHECKING:  # pragma: no cover
    from digwebs.config import Config


def env_file_variables(cwd: Path) -> dict[str, str]:
    """The variables the project's ``.env`` supplied (not those a real variable overrode).

    The file is read once per process (the ``digwebs`` group has usually
    read it already, before the options were parsed).
    """
    from digwebs_cli.discovery import load_env_file

    return load_env_file(cwd)


def variable_source(name: str, from_env_file: t.Container[str]) -> str:
    """How ``--print-config`` names environment variable *name*: ``NAME`` or ``NAME (.env)``."""
    return f"{name} (.env)" if name in from_env_file else name


def read_server_config(
    cwd: Path,
    env: str,
    from_env_file: t.Container[str] = (),
    config: t.Mapping[str, t.Any] | None = None,
) -> tuple[dict[str, t.Any], dict[str, str]]:
    """The project's ``[server]`` table, as :mod:`digwebs.config` layers it, and its sources.

    The values are ``config["server"]`` of :func:`load_project_config`
    (``config/default.toml``, then ``config/<env>.toml``, then
    ``DIGWEBS_SERVER__<KEY>`` variables): the one layering the app gets
    too, read in the master without importing the app. The sources say,
    for each key, where its value was set (:func:`server_key_source`).

    :param config: the loaded config, when the caller has it already.
    """
    if config is None:
        config, _ = load_project_config(cwd, env)
    table = config.get("server", {})
    if not isinstance(table, dict):
        where = config_key_source(cwd, env, "server", from_env_file)
        raise DigwebsCliError(f"{where}: server must be a table ([server]), not a value")
    values = dict(table)
    sources = {key: server_key_source(cwd, env, key, from_env_file) for key in values}
    return values, sources


def server_key_source(cwd: Path, env: str, key: str, from_env_file: t.Container[str] = ()) -> str:
    """Where ``[server]`` key *key* was set, as ``--print-config`` names it.

    ``DIGWEBS_SERVER__KEY`` (``(.env)`` when the project's ``.env`` set it),
    else ``config/<env>.toml [server]``, else ``config/default.toml
    [server]``, else ``default``. Only names the source: the value is
    :mod:`digwebs.config`'s.
    """
    for name in os.environ:
        # digwebs.config's rule: the prefix as written, the rest in any case
        if name.startswith("DIGWEBS_") and name[8:].lower() == f"server__{key.lower()}":
            return variable_source(name, from_env_file)
    for filename in (f"{env}.toml", "default.toml"):
        table = _toml_of(cwd / "config" / filename).get("server")
        if isinstance(table, dict) and key in table:
            return f"config/{filename} [server]"
    return "default"


def _toml_of(path: Path) -> dict[str, t.Any]:
    """The TOML file at *path*, or ``{}`` (missing or broken: load_config reports it)."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def load_project_config(cwd: Path, env: str) -> tuple[Config, str | None]:
    """The config the app of *cwd* gets in *env*, and why its secret_key is refused.

    :func:`digwebs.config.load_config` with ``DIGWEBS_ENV`` set to *env*
    (``.env`` has been read into the environment already, as for the app).
    A production config without a usable secret_key is still returned (with
    a throwaway secret in its place), so that ``digwebs check`` can report
    every other finding and ``digwebs deploy`` can be run before the secret
    is in place on the server; the second value is then the reason digwebs
    refuses it. Any other problem is a :class:`DigwebsCliError`.
    """
    from digwebs.config import ConfigError, load_config

    environ = dict(os.environ, DIGWEBS_ENV=env)
    secret_problem: str | None = None
    try:
        return load_config(cwd, environ=environ), None
    except ConfigError as exc:
        message = str(exc)
        if not message.startswith("secret_key "):
            raise _config_error(cwd, env, message) from None
        secret_problem = message
    environ["DIGWEBS_SECRET_KEY"] = secrets.token_hex(32)
    try:
        config = load_config(cwd, environ=environ)
    except ConfigError as exc:
        raise _config_error(cwd, env, str(exc)) from None
    config["secret_key"] = None  # not the project's: never let it be used
    return config, secret_problem


def _config_error(cwd: Path, env: str, message: str) -> DigwebsCliError:
    """A config error, naming where the key it is about was set (when it names one)."""
    key = message.split(" ", 1)[0].split(".", 1)[0]
    where = ""
    if key.isidentifier():
        source = config_key_source(cwd, env, key, env_file_variables(cwd))
        if source != "default":
            where = f" (set in {source})"
    # digwebs.config names files by their full path: the project's relative
    message = message.replace(f"{Path(cwd) / 'config'}{os.sep}", f"config{os.sep}")
    return DigwebsCliError(f"the {env} config does not load: {message}{where}")


def config_key_source(cwd: Path, env: str, key: str, from_env_file: t.Container[str] = ()) -> str:
    """Where the app config's top-level *key* comes from, as ``--print-config`` names it."""
    name = "DIGWEBS_" + key.upper()
    if name in os.environ:
        return variable_source(name, from_env_file)
    for filename in (f"{env}.toml", "default.toml"):
        if key in _toml_of(cwd / "config" / filename):
            return f"config/{filename}"
    return "default"
