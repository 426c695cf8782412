"""Path rules, converters, 404/405, HEAD, OPTIONS, trailing slashes and url_for."""

from __future__ import annotations

import typing as t
import uuid

import pytest

from digwebs import Response, request, url_for
from digwebs.errors import MethodNotAllowed, NotFound, RequestRedirect
from digwebs.routing import BuildError, Router, Rule

U = "12345678-1234-5678-1234-567812345678"


def _echo(**params):
    return {k: [type(v).__name__, str(v)] for k, v in params.items()}


@pytest.mark.parametrize(
    ("rule", "url", "expected"),
    [
        ("/u/<name>", "/u/ann", {"name": ["str", "ann"]}),
        ("/u/:name", "/u/ann", {"name": ["str", "ann"]}),
        ("/n/<int:n>", "/n/42", {"n": ["int", "42"]}),
        ("/f/<float:x>", "/f/1.5", {"x": ["float", "1.5"]}),
        ("/p/<path:rest>", "/p/a/b/c.txt", {"rest": ["str", "a/b/c.txt"]}),
        ("/id/<uuid:id>", f"/id/{U}", {"id": ["UUID", U]}),
        ("/a/<int:x>/b/<y>", "/a/1/b/two", {"x": ["int", "1"], "y": ["str", "two"]}),
        ("/file/<name>.txt", "/file/readme.txt", {"name": ["str", "readme"]}),
    ],
)
def test_params_arrive_as_converted_kwargs(app, client, rule, url, expected):
    app.add_route(rule, _echo)
    r = client.get(url)
    assert r.status_code == 200 and r.json == expected


def test_uuid_param_is_a_uuid(app, client):
    @app.get("/id/<uuid:id>")
    def show(id):
        assert isinstance(id, uuid.UUID)
        return id.hex

    assert client.get(f"/id/{U}").text == U.replace("-", "")


@pytest.mark.parametrize(
    ("rule", "url"),
    [
        ("/n/<int:n>", "/n/abc"),
        ("/n/<int:n>", "/n/-1"),
        ("/n/<int:n>", "/n/\u00b2"),  # a superscript digit is not an int
        ("/f/<float:x>", "/f/1"),
        ("/f/<float:x>", "/f/a.b"),
        ("/id/<uuid:id>", "/id/not-a-uuid"),
        ("/u/<name>", "/u/a/b"),  # a plain parameter never spans a slash
        ("/p/<path:rest>", "/p/"),
    ],
)
def test_value_that_does_not_convert_is_404(app, client, rule, url):
    app.add_route(rule, _echo)
    assert client.get(url).status_code == 404


def test_unknown_path_is_404(app, client):
    app.add_route("/", lambda: "home")
    r = client.get("/nowhere")
    assert r.status_code == 404 and "Not Found" in r.text


def test_405_lists_allowed_methods(app, client):
    app.add_route("/items", lambda: "list", ["GET"])
    app.add_route("/items", lambda: "made", ["POST"], name="make")
    r = client.delete("/items")
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


def test_head_is_answered_by_get_with_no_body_and_the_right_length(app, client):
    app.add_route("/", lambda: "hello world")
    app.add_route("/n/<int:n>", lambda n: "x" * n, name="n")
    r = client.head("/")
    assert (r.status_code, r.data, r.headers["Content-Length"]) == (200, b"", "11")
    r = client.head("/n/7")
    assert (r.status_code, r.data, r.headers["Content-Length"]) == (200, b"", "7")


def test_head_of_a_streamed_body_sends_nothing(app, client):
    app.add_route("/s", lambda: (c for c in [b"a", b"b"]))
    r = client.head("/s")
    assert (r.status_code, r.data) == (200, b"")


@pytest.mark.parametrize("path", ["/things", "/things/<int:id>"])
def test_options_is_automatic_with_allow(app, client, path):
    app.add_route(path, _echo, ["GET", "PUT"])
    r = client.options(path.replace("<int:id>", "3"))
    assert r.status_code == 200 and r.data == b""
    assert r.headers["Allow"] == "GET, HEAD, OPTIONS, PUT"


def test_options_on_unknown_path_is_404(app, client):
    app.add_route("/", lambda: "x")
    assert client.options("/nope").status_code == 404


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/blogs", "/blogs/"),
        ("/blogs?page=2&q=a+b", "/blogs/?page=2&q=a+b"),
        ("/users/5", "/users/5/"),
    ],
)
def test_trailing_slash_rule_redirects_308_keeping_the_query(app, client, url, location):
    app.add_route("/blogs/", lambda: "blogs")
    app.add_route("/users/<int:id>/", lambda id: str(id), name="user")
    r = client.get(url)
    assert r.status_code == 308 and r.headers["Location"] == location


def test_slashless_rule_does_not_match_with_slash(app, client):
    app.add_route("/about", lambda: "about")
    assert client.get("/about/").status_code == 404


def test_static_path_wins_over_a_parameter(app, client):
    app.add_route("/users/<name>", lambda name: f"user {name}")
    app.add_route("/users/me", lambda: "me", name="me")
    assert client.get("/users/me").text == "me"
    assert client.get("/users/ann").text == "user ann"


def test_int_parameter_wins_over_string_parameter(app, client):
    app.add_route("/x/<name>", lambda name: "str")
    app.add_route("/x/<int:n>", lambda n: "int", name="int")
    assert (client.get("/x/5").text, client.get("/x/a").text) == ("int", "str")


def test_backtracks_from_static_to_dynamic_branch(app, client):
    app.add_route("/a/b/c", lambda: "static")
    app.add_route("/a/<x>/d", lambda x: f"dyn {x}", name="dyn")
    assert client.get("/a/b/d").text == "dyn b"


def test_unicode_path_is_decoded(app, client):
    app.add_route("/caf\u00e9", lambda: "static")
    app.add_route("/w/<word>", lambda word: word, name="word")
    assert client.get("/caf%C3%A9").text == "static"
    assert client.get("/w/%E4%BD%A0%E5%A5%BD").text == "\u4f60\u597d"


def test_match_returns_route_and_params(app):
    @app.get("/posts/<int:id>", name="post")
    def show(id):
        return ""

    result = app.match("get", "/posts/3")
    assert (
        result.route.name == "post" and result.route.handler is show and result.params == {"id": 3}
    )


@pytest.mark.parametrize(
    ("method", "path", "error"),
    [
        ("GET", "/nope", NotFound),
        ("POST", "/posts/3", MethodNotAllowed),
        ("GET", "/dir", RequestRedirect),
    ],
)
def test_match_raises_like_a_request(app, method, path, error):
    app.add_route("/posts/<int:id>", _echo)
    app.add_route("/dir/", lambda: "", name="dir")
    with pytest.raises(error) as info:
        app.match(method, path)
    if error is MethodNotAllowed:
        assert info.value.valid_methods == ["GET", "HEAD", "OPTIONS"]
    if error is RequestRedirect:
        assert info.value.new_url == "/dir/"


def test_url_for_fills_params_and_puts_extras_in_the_query(app):
    app.add_route("/posts/<int:id>/<slug>", _echo, name="post")
    assert app.url_for("post", id=3, slug="hi") == "/posts/3/hi"
    assert app.url_for("post", id=3, slug="a b/c", q="x&y=z", tag=["a", "b"]) == (
        "/posts/3/a%20b%2Fc?q=x%26y%3Dz&tag=a&tag=b"
    )
    assert app.url_for("post", id=1, slug="s", _anchor="top") == "/posts/1/s#top"


def test_url_for_default_names_and_short_names(app):
    def listing():
        return ""

    app.add_route("/list", listing)
    assert app.routes()[0].name == f"{__name__}.{listing.__qualname__}"
    assert app.url_for(f"{__name__}.{listing.__qualname__}") == "/list"
    assert app.url_for("listing") == "/list"


def test_url_for_errors(app):
    app.add_route("/p/<int:id>", _echo, name="p")
    with pytest.raises(BuildError, match="missing value for 'id'"):
        app.url_for("p")
    with pytest.raises(BuildError, match="no route is named"):
        app.url_for("nope")


def test_url_for_function_uses_the_current_app(app, client):
    app.add_route("/p/<path:rest>", _echo, name="p")

    @app.get("/")
    def index():
        return url_for("p", rest="a b/c")

    assert client.get("/").text == "/p/a%20b/c"


def test_url_for_inside_a_mounted_app_includes_script_name(app):
    app.add_route("/p", _echo, name="p")
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/mnt"}):
        assert url_for("p") == "/mnt/p"


def test_shadowed_reports_same_shape_rules(app):
    app.add_route("/u/<a>", _echo, name="first")
    app.add_route("/u/<b>", _echo, name="second")
    app.add_route("/u/<int:n>", _echo, name="other_shape")
    pairs = [(w.name, s.name) for w, s in app.router.shadowed()]
    assert pairs == [("first", "second")]


def test_shadowed_first_rule_wins(app, client):
    app.add_route("/u/<a>", lambda a: "first", name="first")
    app.add_route("/u/<b>", lambda b: "second", name="second")
    assert client.get("/u/x").text == "first"


def test_router_directly():
    router = Router()
    router.add(Rule("/a/<int:x>", "endpoint", ["GET"], "a"))
    rule, params = router.match("GET", "/a/1")
    assert (rule.endpoint, params) == ("endpoint", {"x": 1})
    assert router.allowed_methods("/a/1") == {"GET", "HEAD", "OPTIONS"}
    assert router.allowed_methods("/zzz") == set()


@pytest.mark.parametrize(
    "path",
    ["no-slash", "/x/<nope:y>", "/x/<a>/<a>", "/x/a<path:p>"],
)
def test_invalid_rules_are_refused(path):
    with pytest.raises(ValueError):
        Rule(path, None)


def test_rule_path_is_normalised_to_angle_syntax(app):
    app.add_route("/u/:name/posts/<int:id>", _echo)
    assert app.routes()[0].path == "/u/<name>/posts/<int:id>"


def test_duplicate_name_for_different_handler_is_refused(app):
    app.add_route("/a", lambda: "a", name="same")
    with pytest.raises(ValueError, match="already used"):
        app.add_route("/b", lambda: "b", name="same")


def test_head_on_a_path_without_get_is_405(app, client):
    app.add_route("/form", lambda: "x", ["POST"])
    r = client.head("/form")
    assert r.status_code == 405 and r.headers["Allow"] == "OPTIONS, POST"


def test_explicit_head_and_options_handlers_win(app, client):
    app.add_route("/r", lambda: "get body", ["GET"], name="get")
    app.add_route("/r", lambda: Response(b"", headers={"X-Head": "1"}), ["HEAD"], name="head")
    app.add_route("/r", lambda: Response(b"", 204, {"X-Opt": "1"}), ["OPTIONS"], name="opt")
    assert client.head("/r").headers["X-Head"] == "1"
    r = client.options("/r")
    assert (r.status_code, r.headers["X-Opt"]) == (204, "1")


def test_trailing_slash_redirect_with_unicode_and_mount_point(app):
    app.add_route("/caf\u00e9/", lambda: "x")
    client = app.test_client()
    assert client.get("/caf%C3%A9").headers["Location"] == "/caf%C3%A9/"
    r = client.get("/caf%C3%A9?a=1", environ_overrides={"SCRIPT_NAME": "/mnt"})
    assert (r.status_code, r.headers["Location"]) == (308, "/mnt/caf%C3%A9/?a=1")


def test_trailing_slash_redirect_keeps_the_method_with_308(app, client):
    app.add_route("/submit/", lambda: request.method, ["POST"])
    r = client.post("/submit", follow_redirects=True)
    assert (r.status_code, r.text) == (200, "POST")


@pytest.mark.parametrize(
    ("rule", "url", "expected"),
    [
        ("/files/<path:p>/edit", "/files/a/b/edit", {"p": ["str", "a/b"]}),
        ("/v/<int:a>-<int:b>", "/v/3-14", {"a": ["int", "3"], "b": ["int", "14"]}),
        ("/x/<a>/<b>/<c>", "/x/1/2/3", {"a": ["str", "1"], "b": ["str", "2"], "c": ["str", "3"]}),
    ],
)
def test_more_rule_shapes(app, client, rule, url, expected):
    app.add_route(rule, _echo)
    assert client.get(url).json == expected


def test_empty_segment_does_not_match_a_parameter(app, client):
    app.add_route("/u/<name>/x", _echo)
    assert client.get("/u//x").status_code == 404


@pytest.mark.parametrize(
    ("rule", "values", "url"),
    [
        ("/w/<word>", {"word": "\u4f60 ?#"}, "/w/%E4%BD%A0%20%3F%23"),
        ("/f/<float:x>", {"x": 2.5}, "/f/2.5"),
        ("/id/<uuid:id>", {"id": uuid.UUID(U)}, f"/id/{U}"),
        ("/v/<int:a>-<int:b>", {"a": 1, "b": 2, "page": 3}, "/v/1-2?page=3"),
        ("/q", {"q": "\u00e9 &", "none": None}, "/q?q=%C3%A9+%26"),
    ],
)
def test_url_for_quotes_values(app, rule, values, url):
    app.add_route(rule, _echo, name="r")
    assert app.url_for("r", **values) == url


def test_url_for_round_trips_through_the_router(app, client):
    app.add_route("/w/<word>/<path:rest>", _echo, name="r")
    url = app.url_for("r", word="a b\u00e9", rest="x y/z")
    assert client.get(url).json == {"word": ["str", "a b\u00e9"], "rest": ["str", "x y/z"]}


def test_both_slash_forms_may_be_routes(app, client):
    app.add_route("/blogs", lambda: "no slash", name="a")
    app.add_route("/blogs/", lambda: "slash", name="b")
    assert (client.get("/blogs").text, client.get("/blogs/").text) == ("no slash", "slash")


# -- issue 9: converters never fail a request -------------------------------


def _compiled_and_walk(*rules: tuple[str, tuple[str, ...]]) -> tuple[Router, t.Any]:
    router = Router()
    for path, methods in rules:
        router.add(Rule(path, path, methods, path))
    return router, router.compile()


@pytest.mark.parametrize(
    ("rule", "url"),
    [
        ("/users/<int:uid>", "/users/" + "7" * 4301),  # past Python's int string limit
        ("/users/<int:uid>/posts", "/users/" + "7" * 5000 + "/posts"),
        ("/v/<int:a>-<int:b>", "/v/1-" + "2" * 4400),
        ("/f/<float:x>", "/f/" + "9" * 400 + ".5"),  # float() would give inf
        ("/id/<uuid:id>", "/id/1234567_-1234-5678-1234-567812345678"),  # int(..., 16) takes _
        ("/id/<uuid:id>", "/id/{{12345678123456781234567812345678}}"),  # uuid.UUID strips {}
        ("/id/<uuid:id>", "/id/+2345678-1234-5678-1234-567812345678"),
    ],
)
def test_a_value_no_converter_accepts_is_404_never_500(app, client, rule, url):
    app.add_route(rule, _echo)
    assert client.get(url).status_code == 404
    router, compiled = _compiled_and_walk((rule, ("GET",)))
    assert router.lookup("GET", url) is None
    assert compiled("GET", url) is None


def test_a_huge_int_falls_back_to_the_next_alternative():
    router, compiled = _compiled_and_walk(("/u/<int:n>", ("GET",)), ("/u/<name>", ("GET",)))
    url = "/u/" + "1" * 4400
    for lookup in (router.lookup, compiled):
        rule, params = lookup("GET", url)
        assert rule.path == "/u/<name>" and params == {"name": "1" * 4400}


# -- issue 9: targets that are not paths ------------------------------------


@pytest.mark.parametrize("target", ["*", "127.0.0.1:80", "", "a/", "x/users/1", "*/"])
@pytest.mark.parametrize("method", ["GET", "OPTIONS", "CONNECT", "POST"])
def test_a_target_that_is_not_a_path_is_never_routed(target, method):
    router, compiled = _compiled_and_walk(
        ("/", ("GET",)),
        ("/users/<int:id>", ("GET",)),
        ("/a/", ("POST",)),
        ("/<path:p>", ("POST",)),
    )
    for lookup in (router.lookup, compiled):
        assert lookup(method, target) is None
    with pytest.raises(NotFound):
        router.match(method, target)
    assert router.allowed_methods(target) == set()


def test_all_methods_is_what_options_star_allows():
    router, _ = _compiled_and_walk(("/", ("GET",)), ("/a", ("POST", "PUT")))
    assert router.all_methods() == {"GET", "HEAD", "OPTIONS", "POST", "PUT"}
    assert Router().all_methods() == {"OPTIONS"}


# -- issue 9: url_for ---------------------------------------------------------


def test_url_for_takes_a_parameter_called_name(app, client):
    @app.get("/hello/<name>")
    def hello(name):
        return url_for("hello", name=name)

    assert app.url_for("hello", name="x") == "/hello/x"
    assert client.get("/hello/ann").text == "/hello/ann"
    router = Router()
    router.add(Rule("/s/<self>/<name>/<values>", "e", name="r"))
    assert router.build("r", {"self": 1, "name": 2, "values": 3}) == "/s/1/2/3"


def test_url_for_picks_the_rule_the_values_fill(app):
    @app.get("/foo/")
    @app.get("/foo/<int:page>")
    def foo(page=1):
        return str(page)

    full = f"{__name__}.{foo.__qualname__}"
    for name in ("foo", full):
        assert app.url_for(name) == "/foo/"
        assert app.url_for(name, page=2) == "/foo/2"
        assert app.url_for(name, page=None) == "/foo/"
        assert app.url_for(name, page=3, q="x") == "/foo/3?q=x"


def test_url_for_prefers_the_rule_with_most_parameters_whatever_the_order(app):
    def f(**kw):
        return ""

    app.add_route("/a/<int:x>/<int:y>", f, name="r")
    app.add_route("/a", f, name="r")
    app.add_route("/a/<int:x>", f, name="r")
    assert app.url_for("r") == "/a"
    assert app.url_for("r", x=1) == "/a/1"
    assert app.url_for("r", x=1, y=2) == "/a/1/2"
    assert app.url_for("r", y=2) == "/a?y=2"


def test_url_for_prefers_a_get_rule_then_any(app):
    def f(**kw):
        return ""

    app.add_route("/edit/<int:id>", f, ["POST"], name="r")
    app.add_route("/show/<int:id>", f, ["GET"], name="r")
    app.add_route("/make", f, ["POST"], name="m")
    assert app.url_for("r", id=1) == "/show/1"
    assert app.router.build("r", {"id": 1}, method="POST") == "/edit/1"
    assert app.url_for("m") == "/make"


def test_url_for_names_what_each_rule_needs_when_none_fits(app):
    def f(**kw):
        return ""

    app.add_route("/a/<int:x>", f, name="r")
    app.add_route("/b/<int:y>/<z>", f, name="r")
    with pytest.raises(
        BuildError, match=r"from q: '/b/<int:y>/<z>' needs y, z; '/a/<int:x>' needs x"
    ):
        app.url_for("r", q=1)


@pytest.mark.parametrize(
    ("value", "url"),
    [
        (0.00001, "/f/0.00001"),
        (1e16, "/f/10000000000000000.0"),
        (1e-7, "/f/0.0000001"),
        (3, "/f/3.0"),
        (0.1, "/f/0.1"),
        (1.5, "/f/1.5"),
    ],
)
def test_floats_are_built_without_an_exponent(app, client, value, url):
    app.add_route("/f/<float:x>", _echo, name="r")
    assert app.url_for("r", x=value) == url
    assert client.get(url).json == {"x": ["float", repr(float(value))]}


@pytest.mark.parametrize(
    ("rule", "value"),
    [
        ("/f/<float:x>", -1.5),
        ("/f/<float:x>", float("nan")),
        ("/f/<float:x>", float("inf")),
        ("/n/<int:x>", -1),
    ],
)
def test_a_value_the_converter_would_not_match_is_a_build_error(app, rule, value):
    app.add_route(rule, _echo, name="r")
    with pytest.raises(BuildError, match="'x'"):
        app.url_for("r", x=value)


def test_non_ascii_static_text_is_percent_encoded_and_still_matches(app, client):
    app.add_route("/\u0432\u043e\u0439\u0442\u0438/", lambda: "login", name="login")
    app.add_route("/caf\u00e9/<name>.\u00e9", _echo, name="mixed")
    url = app.url_for("login")
    assert url == "/%D0%B2%D0%BE%D0%B9%D1%82%D0%B8/"
    assert client.get(url).text == "login"
    url = app.url_for("mixed", name="x y")
    assert url == "/caf%C3%A9/x%20y.%C3%A9"
    assert client.get(url).json == {"name": ["str", "x y"]}


def test_none_is_dropped_from_the_query(app):
    app.add_route("/q", _echo, name="q")
    assert app.url_for("q", v=[1, None, 2], w=None, x=(None,)) == "/q?v=1&v=2"
    assert app.url_for("q", v={3}) == "/q?v=3"


# -- issue 9: rule order ------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "url", "winner", "params"),
    [
        (["/<path:p>", "/<path:p>/edit"], "/a/b/edit", "/<path:p>/edit", {"p": "a/b"}),
        (["/<path:p>/edit", "/<path:p>"], "/a/b/edit", "/<path:p>/edit", {"p": "a/b"}),
        (["/<path:p>", "/<path:p>/edit"], "/a/b", "/<path:p>", {"p": "a/b"}),
        (["/<path:x>", "/<a>/<b>"], "/he/he", "/<a>/<b>", {"a": "he", "b": "he"}),
        (["/<path:x>", "/<a>/<b>"], "/he/he/he", "/<path:x>", {"x": "he/he/he"}),
        (["/<path:x>", "/<a>"], "/he", "/<a>", {"a": "he"}),
        (["/<a>", "/<int:n>"], "/5", "/<int:n>", {"n": 5}),
        (["/<a>", "/<a>.json"], "/x.json", "/<a>.json", {"a": "x"}),
        (
            ["/f/<path:p>", "/f/<path:p>/<int:n>"],
            "/f/a/1",
            "/f/<path:p>/<int:n>",
            {"p": "a", "n": 1},
        ),
        # More static text in the step beats a lighter converter (werkzeug's order).
        (["/f/<x>/raw", "/f/<path:p>/raw"], "/f/a/raw", "/f/<path:p>/raw", {"p": "a"}),
        (["/f/<path:p>"], "/f//etc", None, None),  # a path value never starts with '/'
    ],
)
def test_static_beats_converters_beats_path(rules, url, winner, params):
    router, compiled = _compiled_and_walk(*[(r, ("GET",)) for r in rules])
    for lookup in (router.lookup, compiled):
        found = lookup("GET", url)
        if winner is None:
            assert found is None
        else:
            assert (found[0].path, found[1]) == (winner, params)
    assert router.shadowed() == []


def test_shadowed_never_reports_a_rule_against_itself():
    router, _ = _compiled_and_walk(("/x", ("GET", "HEAD")), ("/y", ("GET", "HEAD", "POST")))
    assert router.shadowed() == []


def test_shadowed_reports_only_rules_no_request_reaches():
    router, _ = _compiled_and_walk(
        ("/u/<a>", ("GET",)),
        ("/u/<b>", ("GET", "POST")),  # still answers POST
        ("/u/<c>", ("POST",)),  # nothing left
        ("/v", ("GET",)),
        ("/v", ("HEAD",)),  # an explicit HEAD beats the GET rule's implicit one
    )
    pairs = [(w.path, s.path) for w, s in router.shadowed()]
    assert pairs == [("/u/<b>", "/u/<c>")]


def test_a_get_route_listing_head_passes_routes_check(app, tmp_path):
    from digwebs_cli.routes import check_app

    def show(**kw):
        return ""

    def other(**kw):
        return ""

    app.add_route("/x", show, ["GET", "HEAD"], name="x")
    app.add_route("/y", show, ["GET"], name="y")
    app.add_route("/y", other, ["GET"], name="y2")
    assert [(w.name, s.name) for w, s in app.router.shadowed()] == [("y", "y2")]
    # What `digwebs routes --check` reports: the true shadowing only.
    problems = check_app(app, app.routes(), tmp_path)
    assert [(p.kind, p.message.split(":")[0]) for p in problems] == [("shadowed-route", "y2")]


def test_get_on_the_slashless_path_of_a_post_route_redirects_to_the_get_route(app, client):
    app.add_route("/bar", lambda: "post", ["POST"], name="post")
    app.add_route("/bar/", lambda: "get", ["GET"], name="get")
    r = client.get("/bar")
    assert (r.status_code, r.headers["Location"]) == (308, "/bar/")
    assert client.post("/bar").text == "post"
    assert client.head("/bar").status_code == 308
    r = client.put("/bar")
    assert r.status_code == 405 and r.headers["Allow"] == "OPTIONS, POST"


def test_a_slash_rule_for_another_method_does_not_redirect(app, client):
    app.add_route("/bar/", lambda: "post", ["POST"], name="post")
    assert client.get("/bar").status_code == 404
    assert client.post("/bar", follow_redirects=True).text == "post"


# -- issue 9: registration ----------------------------------------------------


@pytest.mark.parametrize("methods", ["GET", b"GET"])
def test_methods_as_a_string_is_a_type_error(app, methods):
    msg = "methods must be a list of method names, not a string"
    with pytest.raises(TypeError, match=msg):
        Rule("/x", None, methods)
    with pytest.raises(TypeError, match=msg):
        app.add_route("/x", _echo, methods)
    from digwebs import decorators

    with pytest.raises(TypeError, match=msg):
        decorators.route("/x", methods)


def test_the_same_bound_method_twice_under_one_name(app, client):
    class Pages:
        def show(self, n=0):
            return f"page {n}"

    pages = Pages()
    app.add_route("/p", pages.show, name="page")
    app.add_route("/p/<int:n>", pages.show, name="page")
    with pytest.raises(ValueError, match="already used"):
        app.add_route("/q", Pages().show, name="page")  # another object's method
    assert client.get("/p/3").text == "page 3"
    assert client.get("/q").status_code == 404  # the refused rule was not added
    assert app.url_for("page", n=3) == "/p/3"


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/%0A", "/%0A/"),
        ("/100%25", "/100%25/"),
        ("/caf%C3%A9", "/caf%C3%A9/"),
        ("/a%20b", "/a%20b/"),
        ("/a%3Fb", "/a%3Fb/"),
    ],
)
def test_a_redirect_quotes_the_path_it_adds_a_slash_to(app, client, url, location):
    app.add_route("/<x>/", _echo)
    r = client.get(url)
    assert (r.status_code, r.headers["Location"]) == (308, location)
    assert client.get(location).status_code == 200
