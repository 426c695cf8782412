"""Layered configuration.

Later layers win:

1. built-in defaults (:data:`DEFAULTS`),
2. keyword arguments given to ``Digwebs(...)``,
3. ``config/default.toml``,
4. ``config/<env>.toml``, where ``<env>`` is ``DIGWEBS_ENV`` (``development``
   when unset),
5. environment variables ``DIGWEBS_<KEY>`` (``DIGWEBS_SECRET_KEY``,
   ``DIGWEBS_SERVER__PORT`` for ``server.port``), parsed as TOML values where
   they parse (``8000``, ``true``, ``[1, 2]``) and kept as strings otherwise.
"""

from __future__ import annotations

import os
import tomllib
import typing as t
from datetime import timedelta
from pathlib import Path

__all__ = ["Config", "ConfigError", "DEFAULTS", "load_config"]

# Values that mean "nobody chose a secret": refused in production.
INSECURE_SECRETS = frozenset(
    {"", "dev", "change-me", "changeme", "secret", "development", "insecure"}
)

DEFAULTS: dict[str, t.Any] = {
    "env": "development",
    "debug": None,  # None: on in development, off elsewhere
    "secret_key": None,
    "max_content_length": 16 * 1024 * 1024,
    "session_cookie_name": "session",
    "session_cookie_secure": None,  # None: Secure when the request came over https
    "session_cookie_samesite": "Lax",
    "session_cookie_httponly": True,
    "session_cookie_path": "/",
    "session_cookie_domain": None,
    "session_max_age": int(timedelta(days=31).total_seconds()),
    "templates_auto_reload": None,  # None: follows debug
    "static_url_path": "/static",
    "static_max_age": 3600,
    # Production: proxies, hosts, CSRF and security headers.
    "trusted_proxies": [],  # addresses or CIDRs whose X-Forwarded-* headers are believed
    "allowed_hosts": [],  # host names (``*.example.com`` patterns) this site answers; [] any
    "csrf_protection": True,  # refuse cross-origin unsafe requests (see digwebs.csrf)
    "csrf_trusted_origins": [],  # other origins allowed to post, e.g. "https://app.example.com"
    "csrf_time_limit": 3600,  # seconds a csrf_token() stays valid (Flask-WTF's default)
    # url_for(..., _external=True) outside a request: "example.com[:port]", "http"/"https".
    "server_name": None,
    "preferred_url_scheme": "http",
    # Header names as snake_case keys; set one to "" to send none.
    "security_headers": {
        "x_content_type_options": "nosniff",
        "referrer_policy": "strict-origin-when-cross-origin",
        "x_frame_options": "DENY",
        "strict_transport_security": "max-age=31536000; includeSubDomains",  # https only
    },
    "server": {},
}

# Keys that are not in DEFAULTS but are known and handed through.
_ENV_PREFIX = "DIGWEBS_"
# Variables the framework reads for other purposes, not config keys.
_NOT_CONFIG = {"DIGWEBS_ENV", "DIGWEBS_APP"}
# Settings of the ``digwebs`` command line (``DIGWEBS_SERVE_PORT``...).
_NOT_CONFIG_PREFIXES = ("DIGWEBS_SERVE_",)
# Keys kept exactly as written in the environment, never parsed as TOML: a
# random secret such as ``12e45`` must not turn into a float.
_ALWAYS_STRING = {"secret_key"}


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


class Config(dict[str, t.Any]):
    """A dict of settings that also allows attribute access (``config.debug``)."""

    def __getattr__(self, name: str) -> t.Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no config key {name!r}") from None

    def __setattr__(self, name: str, value: t.Any) -> None:
        self[name] = value

    def merge(self, values: t.Mapping[str, t.Any]) -> None:
        """Update with ``values``; nested tables are merged, not replaced."""
        for key, value in values.items():
            key = key.lower()
            current = self.get(key)
            if isinstance(value, dict) and isinstance(current, dict):
                merged = dict(current)
                merged.update(value)
                self[key] = merged
            else:
                self[key] = value


def _read_toml(path: Path) -> dict[str, t.Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already carries "(at line N, column M)".
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        line = _line_of(path, exc.start)
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 text (at line {line})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _line_of(path: Path, offset: int) -> int:
    """The 1-based line number of byte ``offset`` in ``path``."""
    try:
        return path.read_bytes()[:offset].count(b"\n") + 1
    except OSError:  # pragma: no cover - it was readable a moment ago
        return 0


def _parse_env_value(raw: str) -> t.Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def environment_overrides(environ: t.Mapping[str, str]) -> dict[str, t.Any]:
    """Collect ``DIGWEBS_<KEY>`` variables; ``__`` descends into a table."""
    result: dict[str, t.Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(_ENV_PREFIX) or name in _NOT_CONFIG:
            continue
        if name.startswith(_NOT_CONFIG_PREFIXES):
            continue
        path = name[len(_ENV_PREFIX) :].lower().split("__")
        if not all(path):
            continue
        target = result
        for part in path[:-1]:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):  # DIGWEBS_X=1 and DIGWEBS_X__Y=2
                nested = target[part] = {}
            target = nested
        value = raw if len(path) == 1 and path[0] in _ALWAYS_STRING else _parse_env_value(raw)
        target[path[-1]] = value
    return result


def load_config(
    root_path: str | os.PathLike[str],
    overrides: t.Mapping[str, t.Any] | None = None,
    environ: t.Mapping[str, str] | None = None,
) -> Config:
    """Build the configuration of the project at ``root_path``."""
    environ = os.environ if environ is None else environ
    config = Config(DEFAULTS)
    config["server"] = {}
    config.merge(overrides or {})
    env = environ.get("DIGWEBS_ENV") or config.get("env") or "development"
    config["env"] = env
    folder = Path(root_path) / "config"
    for filename in ("default.toml", f"{env}.toml"):
        path = folder / filename
        if path.is_file():
            config.merge(_read_toml(path))
    config.merge(environment_overrides(environ))
    config["env"] = env
    for key in _BOOLEAN_KEYS:
        if config.get(key) is not None:
            config[key] = _as_bool(key, config[key])
    if config.get("debug") is None:
        config["debug"] = env == "development"
    if config.get("templates_auto_reload") is None:
        config["templates_auto_reload"] = bool(config["debug"])
    check_config(config, folder)
    return config


def _development_secret(folder: Path | None) -> str | None:
    """The secret_key of ``config/development.toml``, if it has a readable one."""
    if folder is None:
        return None
    path = folder / "development.toml"
    try:
        with path.open("rb") as fh:
            secret = tomllib.load(fh).get("secret_key")
    except (OSError, ValueError):
        return None
    return str(secret) if secret else None


def check_config(config: Config, folder: Path | None = None) -> None:
    """Refuse settings that are unsafe or unusable, with the fix in the message.

    ``folder`` is the project's ``config/`` folder: in production a secret_key
    copied from ``development.toml`` (checked into git) is refused too.
    """
    if config["env"] == "production":
        secret = config.get("secret_key")
        text = "" if secret is None else str(secret)
        if not text.strip() or text.strip().lower() in INSECURE_SECRETS or len(text) < 16:
            problem = "missing" if not text.strip() else "insecure (a default or too short)"
        elif text == _development_secret(folder):
            problem = "the one in config/development.toml"
        else:
            problem = None
        if problem is not None:
            raise ConfigError(
                f"secret_key is {problem}, and env is 'production'. Set a long random "
                "value, e.g. export DIGWEBS_SECRET_KEY=\"$(python -c 'import secrets; "
                "print(secrets.token_hex(32))')\", or put secret_key in config/production.toml "
                "(kept out of version control)."
            )
    limit = config.get("max_content_length")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise ConfigError(f"max_content_length must be a non-negative integer, not {limit!r}")
    max_age = config.get("session_max_age")
    if max_age is not None and (
        not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 0
    ):
        raise ConfigError(f"session_max_age must be a number of seconds, not {max_age!r}")
    _check_front_door(config)


def _check_front_door(config: Config) -> None:
    """The settings of issue 12's proxies and hosts, each refused with its fix."""
    # Imported here: both modules import ConfigError from this one.
    from .hosts import parse_allowed_hosts, split_host
    from .proxies import parse_trusted_proxies

    parse_trusted_proxies(config.get("trusted_proxies") or [])
    parse_allowed_hosts(config.get("allowed_hosts") or [])
    server_name = config.get("server_name")
    if server_name is not None and (
        not isinstance(server_name, str) or split_host(server_name) is None
    ):
        raise ConfigError(
            f"server_name must be a host name with an optional port, e.g. 'example.com' or "
            f"'example.com:8443', not {server_name!r}"
        )
    scheme = config.get("preferred_url_scheme")
    if scheme not in ("http", "https"):
        raise ConfigError(f"preferred_url_scheme must be 'http' or 'https', not {scheme!r}")


_BOOLEAN_KEYS = (
    "debug",
    "templates_auto_reload",
    "session_cookie_secure",
    "session_cookie_httponly",
    "csrf_protection",
)
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


def _as_bool(key: str, value: t.Any) -> bool:
    """Accept true/false, 1/0 and the usual words; a typo is an error, not "truthy"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(f"{key} must be true or false, not {value!r}")
