"""Configuration: layering, environment variables, production checks, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from digwebs import Digwebs
from digwebs.config import DEFAULTS, Config, ConfigError

SECRET = "a-long-production-secret-0123456789"


def write_config(root: Path, name: str, text: str) -> Path:
    folder = root / "config"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the mapping ----------------------------------------------------------------


def test_config_is_a_mapping_with_attribute_access(tmp_path):
    app = Digwebs(root_path=tmp_path)
    assert isinstance(app.config, Config)
    assert isinstance(app.config, dict)
    limit = DEFAULTS["max_content_length"]
    assert app.config.max_content_length == app.config["max_content_length"] == limit
    app.config.custom = 3
    assert app.config["custom"] == 3
    with pytest.raises(AttributeError, match="no config key 'nope'"):
        app.config.nope  # noqa: B018
    assert app.config.get("nope", "default") == "default"


def test_built_in_defaults(tmp_path):
    config = Digwebs(root_path=tmp_path).config
    assert config.env == "development"
    assert config.debug is True
    assert config.secret_key is None
    assert config.session_cookie_httponly is True
    assert config.session_cookie_samesite == "Lax"
    assert config.server == {}


# -- layering ----------------------------------------------------------------------


def test_layers_defaults_default_toml_env_toml_environment(tmp_path, monkeypatch):
    write_config(
        tmp_path,
        "default.toml",
        'name = "from default"\nsite = "default site"\nlevel = "default"\n'
        '[server]\nhost = "127.0.0.1"\nport = 8000\n',
    )
    write_config(
        tmp_path,
        "development.toml",
        'level = "development"\nsite = "development site"\n[server]\nport = 8001\n',
    )
    monkeypatch.setenv("DIGWEBS_LEVEL", "environment")
    config = Digwebs(root_path=tmp_path).config
    assert config.name == "from default"  # only in default.toml
    assert config.site == "development site"  # env file beats default.toml
    assert config.level == "environment"  # environment beats both files
    # Tables are merged key by key, not replaced.
    assert config.server == {"host": "127.0.0.1", "port": 8001}
    # Untouched defaults stay.
    assert config.session_cookie_name == "session"


def test_digwebs_env_picks_the_env_file(tmp_path, monkeypatch):
    write_config(tmp_path, "default.toml", 'where = "default"\n')
    write_config(tmp_path, "development.toml", 'where = "development"\n')
    write_config(tmp_path, "staging.toml", 'where = "staging"\n')
    assert Digwebs(root_path=tmp_path).config.where == "development"
    monkeypatch.setenv("DIGWEBS_ENV", "staging")
    config = Digwebs(root_path=tmp_path).config
    assert config.env == "staging"
    assert config.where == "staging"
    monkeypatch.setenv("DIGWEBS_ENV", "nothing-for-this-one")
    assert Digwebs(root_path=tmp_path).config.where == "default"


def test_digwebs_env_beats_the_env_keyword(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGWEBS_ENV", "staging")
    assert Digwebs(root_path=tmp_path, env="development").config.env == "staging"


def test_keyword_arguments_sit_between_defaults_and_files(tmp_path):
    write_config(tmp_path, "default.toml", 'from_file = "file"\n')
    config = Digwebs(root_path=tmp_path, from_file="keyword", only_keyword=1).config
    assert config.from_file == "file"
    assert config.only_keyword == 1


def test_env_keyword_selects_the_env_file(tmp_path):
    write_config(tmp_path, "staging.toml", 'where = "staging"\n')
    config = Digwebs(root_path=tmp_path, env="staging").config
    assert (config.env, config.where) == ("staging", "staging")


def test_config_files_with_upper_case_keys_are_lower_cased(tmp_path):
    write_config(tmp_path, "default.toml", "MAX_CONTENT_LENGTH = 10\n")
    assert Digwebs(root_path=tmp_path).config.max_content_length == 10


# -- environment variables --------------------------------------------------------


def test_environment_values_parse_as_toml_where_they_can(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGWEBS_MAX_CONTENT_LENGTH", "100")
    monkeypatch.setenv("DIGWEBS_SERVER__PORT", "9000")
    monkeypatch.setenv("DIGWEBS_NAME", "hello world")
    monkeypatch.setenv("DIGWEBS_RATIO", "0.5")
    monkeypatch.setenv("DIGWEBS_FEATURE", "true")
    monkeypatch.setenv("DIGWEBS_HOSTS", '["a", "b"]')
    monkeypatch.setenv("DIGWEBS_QUOTED", '"42"')
    config = Digwebs(root_path=tmp_path).config
    assert config.max_content_length == 100
    assert config.server["port"] == 9000
    assert config.name == "hello world"
    assert config.ratio == 0.5
    assert config.feature is True
    assert config.hosts == ["a", "b"]
    assert config.quoted == "42"


def test_environment_table_values_merge_into_file_tables(tmp_path, monkeypatch):
    write_config(tmp_path, "default.toml", '[server]\nhost = "0.0.0.0"\nport = 8000\n')
    monkeypatch.setenv("DIGWEBS_SERVER__PORT", "9000")
    assert Digwebs(root_path=tmp_path).config.server == {"host": "0.0.0.0", "port": 9000}


def test_secret_key_from_environment_is_always_a_string(tmp_path, monkeypatch):
    # "12e45" is a valid TOML float; a secret must never be reinterpreted.
    monkeypatch.setenv("DIGWEBS_SECRET_KEY", "12e45")
    assert Digwebs(root_path=tmp_path).config.secret_key == "12e45"


def test_cli_and_selector_variables_are_not_config_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGWEBS_APP", "wsgiapp:app")
    monkeypatch.setenv("DIGWEBS_SERVE_PORT", "9000")
    config = Digwebs(root_path=tmp_path).config
    assert "app" not in config
    assert "serve_port" not in config


# -- debug ---------------------------------------------------------------------------


def test_debug_on_in_development_off_in_production(tmp_path):
    assert Digwebs(root_path=tmp_path).config.debug is True
    assert Digwebs(root_path=tmp_path, env="production", secret_key=SECRET).config.debug is False
    assert Digwebs(root_path=tmp_path, env="staging").config.debug is False


def test_debug_in_production_when_set(tmp_path, monkeypatch):
    write_config(tmp_path, "production.toml", "debug = true\n")
    app = Digwebs(root_path=tmp_path, env="production", secret_key=SECRET)
    assert app.config.debug is True
    assert app.debug is True


def test_debug_off_in_development_when_set(tmp_path, monkeypatch):
    assert Digwebs(root_path=tmp_path, debug=False).config.debug is False
    monkeypatch.setenv("DIGWEBS_DEBUG", "false")
    assert Digwebs(root_path=tmp_path).config.debug is False


def test_debug_words_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGWEBS_DEBUG", "no")  # not TOML, but clearly "off"
    assert Digwebs(root_path=tmp_path).config.debug is False
    monkeypatch.setenv("DIGWEBS_DEBUG", "1")
    assert Digwebs(root_path=tmp_path).config.debug is True


def test_debug_typo_is_an_error_not_truthy(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGWEBS_DEBUG", "flase")
    with pytest.raises(ConfigError, match="debug must be true or false"):
        Digwebs(root_path=tmp_path)


def test_templates_auto_reload_follows_debug(tmp_path):
    assert Digwebs(root_path=tmp_path).config.templates_auto_reload is True
    prod = Digwebs(root_path=tmp_path, env="production", secret_key=SECRET)
    assert prod.config.templates_auto_reload is False


# -- production secret ------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "", "dev", "change-me", "secret", "short-secret"])
def test_production_refuses_missing_or_default_secret(tmp_path, secret):
    kwargs = {} if secret is None else {"secret_key": secret}
    with pytest.raises(ConfigError) as info:
        Digwebs(root_path=tmp_path, env="production", **kwargs)
    message = str(info.value)
    assert "secret_key" in message
    assert "production" in message
    # It says how to fix it.
    assert "DIGWEBS_SECRET_KEY" in message
    assert "secrets.token_hex" in message
    assert "config/production.toml" in message


def test_production_refuses_the_development_secret(tmp_path):
    dev_secret = "development-only-secret-0123456789"
    write_config(tmp_path, "development.toml", f'secret_key = "{dev_secret}"\n')
    with pytest.raises(ConfigError, match="development.toml"):
        Digwebs(root_path=tmp_path, env="production", secret_key=dev_secret)


def test_production_via_digwebs_env_without_secret_stops(tmp_path, monkeypatch):
    write_config(tmp_path, "development.toml", 'secret_key = "only-for-development-0123456789"\n')
    monkeypatch.setenv("DIGWEBS_ENV", "production")
    with pytest.raises(ConfigError, match="DIGWEBS_SECRET_KEY"):
        Digwebs(root_path=tmp_path)


def test_production_accepts_a_secret_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGWEBS_ENV", "production")
    monkeypatch.setenv("DIGWEBS_SECRET_KEY", SECRET)
    config = Digwebs(root_path=tmp_path).config
    assert (config.env, config.secret_key, config.debug) == ("production", SECRET, False)


def test_development_needs_no_secret(tmp_path):
    assert Digwebs(root_path=tmp_path).config.secret_key is None


# -- malformed files --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default.toml", "development.toml"])
def test_malformed_toml_names_file_line_and_reason(tmp_path, name):
    path = write_config(tmp_path, name, 'ok = 1\nname = "fine"\nbroken = \n')
    with pytest.raises(ConfigError) as info:
        Digwebs(root_path=tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert "line 3" in message
    assert "invalid TOML" in message
    assert "Invalid value" in message  # tomllib's reason


def test_duplicate_key_is_reported_with_its_line(tmp_path):
    path = write_config(tmp_path, "default.toml", "a = 1\n\na = 2\n")
    with pytest.raises(ConfigError, match=r"line 3") as info:
        Digwebs(root_path=tmp_path)
    assert str(path) in str(info.value)


def test_non_utf8_config_is_reported_with_its_line(tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    path = folder / "default.toml"
    path.write_bytes(b'a = 1\nb = "caf\xe9"\n')
    with pytest.raises(ConfigError) as info:
        Digwebs(root_path=tmp_path)
    assert str(path) in str(info.value)
    assert "line 2" in str(info.value)


def test_other_env_files_are_not_read(tmp_path):
    write_config(tmp_path, "production.toml", "this is not toml\n")
    Digwebs(root_path=tmp_path)  # development: production.toml is never opened


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("max_content_length = -1\n", "max_content_length"),
        ('max_content_length = "big"\n', "max_content_length"),
        ("session_max_age = -5\n", "session_max_age"),
        ('trusted_proxies = ["10.0.0.1/8"]\n', "did you mean '10.0.0.0/8'"),
        ('trusted_proxies = ["nginx"]\n', "'nginx' is not an IP address or network"),
        ("trusted_proxies = 127\n", "trusted_proxies must be a list"),
        ('allowed_hosts = ["example.com:443"]\n', "ports are not compared"),
        ('allowed_hosts = ["a b"]\n', "'a b' is not a host name"),
        ('server_name = "example.com/app"\n', "server_name must be a host name"),
        ('preferred_url_scheme = "ftp"\n', "preferred_url_scheme must be"),
    ],
)
def test_unusable_values_stop_start_up(tmp_path, text, match):
    write_config(tmp_path, "default.toml", text)
    with pytest.raises(ConfigError, match=match):
        Digwebs(root_path=tmp_path)


def test_front_door_defaults(tmp_path):
    config = Digwebs(root_path=tmp_path).config
    assert config.trusted_proxies == []
    assert config.allowed_hosts == []
    assert config.server_name is None
    assert config.preferred_url_scheme == "http"


def test_front_door_settings_from_files_and_environment(tmp_path, monkeypatch):
    write_config(
        tmp_path,
        "default.toml",
        'trusted_proxies = ["127.0.0.1", "::1"]\nserver_name = "example.com"\n',
    )
    monkeypatch.setenv("DIGWEBS_ALLOWED_HOSTS", '["example.com", "*.example.com"]')
    monkeypatch.setenv("DIGWEBS_PREFERRED_URL_SCHEME", "https")
    config = Digwebs(root_path=tmp_path).config
    assert config.trusted_proxies == ["127.0.0.1", "::1"]
    assert config.allowed_hosts == ["example.com", "*.example.com"]
    assert (config.server_name, config.preferred_url_scheme) == ("example.com", "https")
