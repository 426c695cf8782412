"""Views: ``@view``, ``render``, template globals, filters, reload and caching."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

from digwebs import Digwebs, ctx, g, get, render, view
from digwebs.templating import TemplateNotFound

PRODUCTION_SECRET = "a-long-production-secret-0123456789"


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_app(tmp_path: Path, views: dict[str, str] | None = None, **config: object) -> Digwebs:
    for name, text in (views or {}).items():
        write(tmp_path / "views", name, text)
    return Digwebs(root_path=tmp_path, **config)


# -- @view ------------------------------------------------------------------


@pytest.mark.parametrize("order", ["view_above", "view_below"])
def test_view_renders_returned_dict_above_or_below_the_route(tmp_path, order):
    template = "<ul>{% for b in blogs %}<li>{{ b }}</li>{% endfor %}</ul>"
    app = make_app(tmp_path, {"blogs.html": template})

    def blogs():
        return {"blogs": ["one", "two"]}

    if order == "view_above":
        view("blogs.html")(app.get("/blogs")(blogs))
    else:
        app.get("/blogs")(view("blogs.html")(blogs))

    resp = app.test_client().get("/blogs")
    assert resp.status_code == 200
    assert resp.text == "<ul><li>one</li><li>two</li></ul>"
    assert resp.content_type.startswith("text/html")


def test_view_with_module_level_marks_in_either_order(tmp_path):
    app = make_app(tmp_path, {"a.html": "A={{ x }}", "b.html": "B={{ x }}"})

    @view("a.html")
    @get("/a")
    def a():
        return {"x": 1}

    @get("/b")
    @view("b.html")
    def b():
        return {"x": 2}

    for fn in (a, b):
        for path, methods, name in fn.__digwebs_routes__:
            app.add_route(path, fn, methods, name)
    client = app.test_client()
    assert client.get("/a").text == "A=1"
    assert client.get("/b").text == "B=2"
    assert [r.template for r in app.routes()] == ["a.html", "b.html"]
    assert {r.renders for r in app.routes()} == {"view"}


def test_view_through_app_load_of_a_controller(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    write(tmp_path / "views", "index.html", "<h1>{{ title }}</h1>")
    write(
        tmp_path / "controllers",
        "home_tpl_ctl.py",
        "from digwebs import get, view\n\n"
        "@view('index.html')\n@get('/')\ndef index():\n    return {'title': 'Home'}\n",
    )
    write(tmp_path / "controllers", "__init__.py", "")
    app = Digwebs(root_path=tmp_path).load()
    assert app.test_client().get("/").text == "<h1>Home</h1>"


def test_view_keeps_status_and_headers_from_a_tuple(tmp_path):
    app = make_app(tmp_path, {"t.html": "{{ n }}"})

    @app.get("/t")
    @view("t.html")
    def t():
        return {"n": 5}, 201, {"X-Extra": "yes"}

    resp = app.test_client().get("/t")
    assert (resp.status_code, resp.text, resp.headers["X-Extra"]) == (201, "5", "yes")


def test_view_handler_may_still_redirect(tmp_path):
    from digwebs import redirect

    app = make_app(tmp_path, {"t.html": "never"})

    @app.get("/t")
    @view("t.html")
    def t():
        return redirect("/elsewhere")

    resp = app.test_client().get("/t")
    assert resp.status_code == 302
    assert resp.location == "/elsewhere"


def test_view_handler_returning_non_dict_names_the_handler_in_debug(tmp_path, caplog):
    app = make_app(tmp_path, {"t.html": "{{ x }}"}, debug=True)

    @app.get("/bad")
    @view("t.html")
    def bad_handler():
        return ["not", "a", "dict"]

    with caplog.at_level(logging.ERROR, logger="digwebs"):
        resp = app.test_client().get("/bad")
    assert resp.status_code == 500
    assert "bad_handler" in resp.text
    assert "t.html" in resp.text
    assert "must return a dict" in resp.text
    assert "returned list" in resp.text
    [record] = [r for r in caplog.records if r.name == "digwebs"]
    assert "bad_handler" in str(record.exc_info[1])


def test_view_handler_returning_non_dict_is_a_plain_500_in_production(tmp_path, caplog):
    app = make_app(tmp_path, {"t.html": "{{ x }}"}, env="production", secret_key=PRODUCTION_SECRET)

    @app.get("/bad")
    @view("t.html")
    def bad_handler():
        return "a string"

    with caplog.at_level(logging.ERROR, logger="digwebs"):
        resp = app.test_client().get("/bad")
    assert resp.status_code == 500
    assert "bad_handler" not in resp.text
    assert "Traceback" not in resp.text
    # ...but the log says which handler broke the rule.
    assert any("bad_handler" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_view_handler_returning_none_is_an_error_too(tmp_path):
    app = make_app(tmp_path, {"t.html": "{{ x }}"}, debug=True)

    @app.get("/none")
    @view("t.html")
    def returns_nothing():
        pass

    resp = app.test_client().get("/none")
    assert resp.status_code == 500
    assert "returns_nothing" in resp.text


# -- render ------------------------------------------------------------------


def test_render_anywhere_in_a_request(tmp_path):
    app = make_app(tmp_path, {"hello.html": "Hello {{ name }}!", "mail.txt": "Dear {{ name }}"})

    def helper():
        return render("mail.txt", name="<Ann>")

    @app.get("/hello")
    def hello():
        return render("hello.html", name="Bob") + " | " + helper()

    assert app.test_client().get("/hello").text == "Hello Bob! | Dear <Ann>"


def test_render_outside_a_request_is_a_clear_error(tmp_path):
    make_app(tmp_path, {"x.html": "x"})
    with pytest.raises(RuntimeError, match="outside of an application context"):
        render("x.html")


def test_render_in_test_request_context(tmp_path):
    app = make_app(tmp_path, {"x.html": "{{ request.path }}"})
    with app.test_request_context("/somewhere"):
        assert render("x.html") == "/somewhere"


# -- escaping ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["page.html", "page.htm", "feed.xml"])
def test_autoescape_on_for_markup_templates(tmp_path, name):
    app = make_app(tmp_path, {name: "<p>{{ value }}</p>"})

    @app.get("/p")
    @view(name)
    def page():
        return {"value": "<b>bold</b> & 'q'"}

    text = app.test_client().get("/p").text
    assert text == "<p>&lt;b&gt;bold&lt;/b&gt; &amp; &#39;q&#39;</p>"


@pytest.mark.parametrize(
    "name, source",
    [
        ("mail.txt", "{{ value }}"),  # autoescape is off for plain-text templates
        ("p.html", "{{ value|safe }}"),  # the safe filter opts out in a markup template
    ],
    ids=["plain-text-template", "safe-filter"],
)
def test_unescaped_output(tmp_path, name, source):
    app = make_app(tmp_path, {name: source})

    @app.get("/p")
    @view(name)
    def page():
        return {"value": "<b>"}

    assert app.test_client().get("/p").text == "<b>"


# -- globals, context processors, filters ------------------------------------


def test_template_globals(tmp_path):
    app = make_app(
        tmp_path,
        {
            "globals.html": (
                "path={{ request.path }};method={{ request.method }};"
                "g={{ g.user }};ctx={{ ctx.mood }};params={{ ctx.params.item_id }};"
                "url={{ url_for('item', item_id=7) }};"
                "static={{ static_url('css/app.css') }};"
                "config={{ config.site_title }};debug={{ config.debug }}"
            )
        },
        site_title="My Site",
    )

    @app.get("/items/<int:item_id>", name="item")
    @view("globals.html")
    def item(item_id):
        g.user = "ann"
        ctx.mood = "happy"
        return {}

    text = app.test_client().get("/items/7").text
    parts = dict(part.split("=", 1) for part in text.split(";"))
    assert parts["path"] == "/items/7"
    assert parts["method"] == "GET"
    assert parts["g"] == "ann"
    assert parts["ctx"] == "happy"
    assert parts["params"] == "7"
    assert parts["url"] == "/items/7"
    assert parts["static"].startswith("/static/css/app.css")
    assert parts["config"] == "My Site"
    assert parts["debug"] == "True"


def test_context_processors_add_to_every_template_and_handler_values_win(tmp_path):
    app = make_app(tmp_path, {"p.html": "{{ site }}|{{ who }}|{{ shared }}"})
    calls = []

    @app.context_processor
    def site_info():
        calls.append(1)
        return {"site": "Digwebs", "shared": "from processor", "who": "processor"}

    @app.context_processor
    def nothing():
        return None

    @app.get("/p")
    @view("p.html")
    def page():
        return {"shared": "from handler"}

    @app.get("/r")
    def rendered():
        return render("p.html", who="render")

    client = app.test_client()
    assert client.get("/p").text == "Digwebs|processor|from handler"
    assert client.get("/r").text == "Digwebs|render|from processor"
    assert len(calls) == 2  # once per render


def test_context_processor_sees_the_request(tmp_path):
    from digwebs import request

    app = make_app(tmp_path, {"p.html": "{{ current_path }}"})

    @app.context_processor
    def path_info():
        return {"current_path": request.path}

    @app.get("/here")
    @view("p.html")
    def page():
        return {}

    assert app.test_client().get("/here").text == "/here"


def test_template_filter_named_and_unnamed(tmp_path):
    app = make_app(tmp_path, {"f.html": "{{ word|shout }} {{ word|rev }}"})

    @app.template_filter()
    def shout(value):
        return value.upper() + "!"

    @app.template_filter("rev")
    def reverse_it(value):
        return value[::-1]

    @app.get("/f")
    @view("f.html")
    def page():
        return {"word": "abc"}

    assert app.test_client().get("/f").text == "ABC! cba"


def test_template_filter_registered_after_first_render(tmp_path):
    app = make_app(tmp_path, {"a.html": "a", "f.html": "{{ 'x'|twice }}"})

    @app.get("/a")
    @view("a.html")
    def a():
        return {}

    @app.get("/f")
    @view("f.html")
    def f():
        return {}

    client = app.test_client()
    assert client.get("/a").text == "a"

    @app.template_filter()
    def twice(value):
        return value * 2

    assert client.get("/f").text == "xx"


def test_filter_output_is_still_escaped(tmp_path):
    app = make_app(tmp_path, {"f.html": "{{ 'b'|tag }}"})

    @app.template_filter()
    def tag(value):
        return f"<{value}>"

    @app.get("/f")
    @view("f.html")
    def page():
        return {}

    assert app.test_client().get("/f").text == "&lt;b&gt;"


def test_templates_can_extend_and_include(tmp_path):
    app = make_app(
        tmp_path,
        {
            "base.html": "<title>{% block title %}{% endblock %}</title>{% include 'nav.html' %}",
            "nav.html": "<nav>{{ nav }}</nav>",
            "page.html": "{% extends 'base.html' %}{% block title %}{{ title }}{% endblock %}",
        },
    )

    @app.get("/")
    @view("page.html")
    def page():
        return {"title": "T", "nav": "N"}

    assert app.test_client().get("/").text == "<title>T</title><nav>N</nav>"


# -- missing templates ----------------------------------------------------------


def test_missing_template_names_template_and_folder(tmp_path):
    app = make_app(tmp_path, {"other.html": "x"})
    with app.test_request_context("/"):
        with pytest.raises(TemplateNotFound) as info:
            render("nope.html")
    message = str(info.value)
    assert "nope.html" in message
    assert str(tmp_path / "views") in message


def test_missing_included_template_names_the_include_and_the_page(tmp_path):
    app = make_app(tmp_path, {"page.html": "{% include 'parts/missing.html' %}"})
    with app.test_request_context("/"):
        with pytest.raises(TemplateNotFound) as info:
            render("page.html")
    message = str(info.value)
    assert "parts/missing.html" in message
    assert "page.html" in message
    assert str(tmp_path / "views") in message


def test_missing_template_in_a_view_is_a_500_naming_it_in_debug(tmp_path):
    app = make_app(tmp_path, debug=True)

    @app.get("/")
    @view("absent.html")
    def page():
        return {}

    resp = app.test_client().get("/")
    assert resp.status_code == 500
    assert "absent.html" in resp.text
    assert str(tmp_path / "views") in resp.text


# -- reload and caching ----------------------------------------------------------


def _rewrite(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, (stat.st_atime + 10, stat.st_mtime + 10))


PRODUCTION = {"env": "production", "secret_key": PRODUCTION_SECRET}


@pytest.mark.parametrize(
    ("config", "env", "after_change"),
    [
        ({}, "development", "new"),  # development reloads a changed template
        (PRODUCTION, "production", "old"),  # production compiles each template once
        ({**PRODUCTION, "templates_auto_reload": True}, "production", "new"),
    ],
    ids=["development-reloads", "production-caches", "production-forced-reload"],
)
def test_template_reload_after_a_change(tmp_path, config, env, after_change):
    app = make_app(tmp_path, {"r.html": "old"}, **config)
    assert app.config.env == env

    @app.get("/r")
    @view("r.html")
    def page():
        return {}

    client = app.test_client()
    assert client.get("/r").text == "old"
    _rewrite(tmp_path / "views" / "r.html", "new")
    assert client.get("/r").text == after_change


def test_bare_view_without_a_template_name_is_a_clear_error():
    with pytest.raises(TypeError, match=r'@view\("page.html"\)'):

        @view  # type: ignore[arg-type]
        def page():
            return {}


def test_missing_template_is_also_a_jinja2_template_not_found(tmp_path):
    import jinja2

    app = make_app(tmp_path)
    with app.test_request_context("/"), pytest.raises(jinja2.TemplateNotFound):
        render("nope.html")
