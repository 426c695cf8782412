"""digwebs_cli.discovery: finding and importing a project's app, one-line errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from digwebs import Digwebs
from digwebs_cli.discovery import find_import_string, load_app
from digwebs_cli.errors import DigwebsCliError

APPS = Path(__file__).resolve().parent.parent / "apps"
DISCOVERY = APPS / "discovery"


@pytest.fixture(autouse=True)
def _forget_imported_apps(tmp_path_factory):
    """Drop the modules these tests import, so each test imports afresh."""
    path = list(sys.path)
    before = set(sys.modules)
    roots = (str(APPS), str(tmp_path_factory.getbasetemp()))
    yield
    for name in set(sys.modules) - before:
        module = sys.modules[name]
        if str(getattr(module, "__file__", "") or "").startswith(roots):
            del sys.modules[name]
    sys.path[:] = path


def error_of(fn, *args) -> str:
    with pytest.raises(DigwebsCliError) as info:
        fn(*args)
    message = info.value.format_message()
    assert "\n" not in message, message
    assert "Traceback" not in message
    return message


# -- find_import_string -------------------------------------------------------


def test_option_wins_over_environment(tmp_path, monkeypatch):
    (tmp_path / "wsgiapp.py").write_text("app = None\n")
    monkeypatch.setenv("DIGWEBS_APP", "fromenv:app")
    assert find_import_string("site.web:application", tmp_path) == "site.web:application"


def test_environment_wins_over_wsgiapp_py(tmp_path, monkeypatch):
    (tmp_path / "wsgiapp.py").write_text("app = None\n")
    monkeypatch.setenv("DIGWEBS_APP", "fromenv:make_app()")
    assert find_import_string(None, tmp_path) == "fromenv:make_app()"


def test_wsgiapp_py_in_the_folder(tmp_path):
    (tmp_path / "wsgiapp.py").write_text("app = None\n")
    assert find_import_string(None, tmp_path) == "wsgiapp:app"


def test_module_without_attribute_is_kept(tmp_path):
    assert find_import_string("mysite", tmp_path) == "mysite"


def test_nothing_to_find(tmp_path):
    message = error_of(find_import_string, None, tmp_path)
    assert "no wsgiapp.py" in message and "--app" in message and "DIGWEBS_APP" in message


@pytest.mark.parametrize("bad", ["a:b:c", "my-site:app", "wsgiapp:", ":app", "wsgiapp:app()x"])
def test_malformed_import_strings(tmp_path, bad):
    message = error_of(find_import_string, bad, tmp_path)
    assert repr(bad) in message and "MODULE:ATTR" in message


def test_a_file_path_becomes_a_module(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "web.py").write_text("app = None\n")
    assert find_import_string("site/web.py:app", tmp_path) == "site.web:app"
    assert "no such Python file" in error_of(find_import_string, "nope.py", tmp_path)


# -- load_app -----------------------------------------------------------------


def test_plain_wsgi_callable():
    app = load_app("dsc_plain:app", DISCOVERY)
    assert callable(app) and app.__name__ == "app"


def test_module_not_found():
    message = error_of(load_app, "dsc_nowhere:app", DISCOVERY)
    assert message.startswith("module 'dsc_nowhere' not found")


def test_module_raising_import_error_is_not_module_not_found():
    message = error_of(load_app, "dsc_cannot_import_name:app", DISCOVERY)
    assert "not found" not in message.split(":")[0]
    assert "importing 'dsc_cannot_import_name' failed: ImportError: cannot import name" in message
    assert "(dsc_cannot_import_name.py:1)" in message


def test_missing_dependency_names_the_dependency_and_the_file():
    message = error_of(load_app, "dsc_missing_dependency", DISCOVERY)
    assert "importing 'dsc_missing_dependency' failed" in message
    assert "No module named 'dsc_no_such_dependency_xyz'" in message
    assert "(dsc_missing_dependency.py:3)" in message


def test_exception_at_import_shows_message_and_line():
    message = error_of(load_app, "dsc_raises:app", DISCOVERY)
    assert "RuntimeError: database URL is not set" in message
    assert "(dsc_raises.py:5)" in message


def test_syntax_error_shows_file_and_line(tmp_path):
    (tmp_path / "dsc_syntax.py").write_text("x = 1\ndef broken(:\n    pass\n")
    message = error_of(load_app, "dsc_syntax:app", tmp_path)
    assert "SyntaxError" in message and "(dsc_syntax.py:2)" in message


def test_missing_attribute_suggests_what_is_there():
    message = error_of(load_app, "dsc_single:app", DISCOVERY)
    assert "has no attribute 'app'" in message and "dsc_single:website" in message


def test_attribute_that_is_not_callable():
    message = error_of(load_app, "dsc_not_callable:app", DISCOVERY)
    assert "is a dict, not a WSGI application" in message


def test_the_class_instead_of_an_instance():
    message = error_of(load_app, "dsc_class:app", DISCOVERY)
    assert "is the class Digwebs, not an app" in message


def test_function_with_the_wrong_signature():
    message = error_of(load_app, "dsc_wrong_signature:app", DISCOVERY)
    assert "cannot be called as a WSGI application" in message


def test_attribute_omitted_finds_the_only_instance():
    app = load_app("dsc_single", DISCOVERY)
    assert isinstance(app, Digwebs)


def test_attribute_omitted_with_two_instances_asks_which():
    message = error_of(load_app, "dsc_two", DISCOVERY)
    assert "several Digwebs apps (admin, public)" in message and "--app dsc_two:NAME" in message


def test_attribute_omitted_calls_create_app():
    app = load_app("dsc_factory", DISCOVERY)
    assert isinstance(app, Digwebs)
    assert sys.modules["dsc_factory"].CALLS == [1]


def test_explicit_factory_call_syntax():
    assert isinstance(load_app("dsc_factory:create_app()", DISCOVERY), Digwebs)
    # naming the factory without () works too: a no-argument function is no WSGI app
    assert isinstance(load_app("dsc_factory:create_app", DISCOVERY), Digwebs)


def test_failing_factory():
    message = error_of(load_app, "dsc_factory_fails", DISCOVERY)
    assert "the app factory dsc_factory_fails:create_app() failed" in message
    assert "ValueError: no secret configured (dsc_factory_fails.py:2)" in message


def test_nothing_to_serve_in_the_module():
    message = error_of(load_app, "dsc_no_app", DISCOVERY)
    assert "has no app" in message and "create_app()" in message


def test_digwebs_app_is_returned_loaded(tmp_path):
    (tmp_path / "controllers").mkdir()
    (tmp_path / "controllers" / "hello.py").write_text(
        "from digwebs import get\n\n@get('/hello')\ndef hello():\n    return 'hi'\n"
    )
    (tmp_path / "dsc_project.py").write_text(
        "import os\nfrom digwebs import Digwebs\n"
        "app = Digwebs(root_path=os.path.dirname(os.path.abspath(__file__)))\n"
    )
    app = load_app("dsc_project:app", tmp_path)
    assert [r.path for r in app.routes()] == ["/hello"]


def test_cwd_is_put_on_sys_path(tmp_path):
    (tmp_path / "dsc_here.py").write_text("def app(environ, start_response):\n    return []\n")
    assert callable(load_app("dsc_here:app", tmp_path))
    assert sys.path[0] == str(tmp_path)


# -- check_module_exists: the master's check, which imports nothing -----------


def test_check_module_exists_runs_no_code(tmp_path):
    from digwebs_cli.discovery import check_module_exists

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("raise RuntimeError('must not run')\n")
    (tmp_path / "pkg" / "web.py").write_text("raise RuntimeError('must not run')\n")
    (tmp_path / "single.py").write_text("raise RuntimeError('must not run')\n")
    check_module_exists("pkg.web:app", tmp_path)
    check_module_exists("single:app", tmp_path)
    check_module_exists("json", tmp_path)
    assert "pkg" not in sys.modules and "single" not in sys.modules
    assert "module 'pkg.nope' not found" in error_of(check_module_exists, "pkg.nope:app", tmp_path)
    assert "module 'single.sub' not found" in error_of(check_module_exists, "single.sub", tmp_path)
    assert "module 'nothing' not found" in error_of(check_module_exists, "nothing:app", tmp_path)
