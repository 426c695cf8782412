"""The router: 404/405, HEAD, OPTIONS, trailing-slash redirects, match, names and shadowed rules."""

from __future__ import annotations

import pytest
from _helpers import compiled_and_walk, echo_params

from digwebs import Response, request
from digwebs.errors import MethodNotAllowed, NotFound, RequestRedirect
from digwebs.routing import BuildError, Router, Rule


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
    app.add_route(path, echo_params, ["GET", "PUT"])
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
    app.add_route("/posts/<int:id>", echo_params)
    app.add_route("/dir/", lambda: "", name="dir")
    with pytest.raises(error) as info:
        app.match(method, path)
    if error is MethodNotAllowed:
        assert info.value.valid_methods == ["GET", "HEAD", "OPTIONS"]
    if error is RequestRedirect:
        assert info.value.new_url == "/dir/"


def test_shadowed_reports_same_shape_rules(app):
    app.add_route("/u/<a>", echo_params, name="first")
    app.add_route("/u/<b>", echo_params, name="second")
    app.add_route("/u/<int:n>", echo_params, name="other_shape")
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


def test_both_slash_forms_may_be_routes(app, client):
    app.add_route("/blogs", lambda: "no slash", name="a")
    app.add_route("/blogs/", lambda: "slash", name="b")
    assert (client.get("/blogs").text, client.get("/blogs/").text) == ("no slash", "slash")


# -- issue 9: targets that are not paths ------------------------------------


@pytest.mark.parametrize("target", ["*", "127.0.0.1:80", "", "a/", "x/users/1", "*/"])
@pytest.mark.parametrize("method", ["GET", "OPTIONS", "CONNECT", "POST"])
def test_a_target_that_is_not_a_path_is_never_routed(target, method):
    router, compiled = compiled_and_walk(
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
    router, _ = compiled_and_walk(("/", ("GET",)), ("/a", ("POST", "PUT")))
    assert router.all_methods() == {"GET", "HEAD", "OPTIONS", "POST", "PUT"}
    assert Router().all_methods() == {"OPTIONS"}


# -- issue 9: url_for ---------------------------------------------------------


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


# -- issue 9: rule order ------------------------------------------------------


def test_shadowed_never_reports_a_rule_against_itself():
    router, _ = compiled_and_walk(("/x", ("GET", "HEAD")), ("/y", ("GET", "HEAD", "POST")))
    assert router.shadowed() == []


def test_shadowed_reports_only_rules_no_request_reaches():
    router, _ = compiled_and_walk(
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
    app.add_route("/<x>/", echo_params)
    r = client.get(url)
    assert (r.status_code, r.headers["Location"]) == (308, location)
    assert client.get(location).status_code == 200
