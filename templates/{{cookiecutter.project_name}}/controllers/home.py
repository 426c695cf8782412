"""The home page: a handler whose result is rendered with a view."""

from digwebs import get, view


@view("index.html")
@get("/")
def index():
    # The returned dict is the template's context (views/index.html).
    return {
        "features": [
            ("Controllers", "controllers/*.py: one function per route."),
            ("Views", "views/*.html: jinja2 templates that extend base.html."),
            ("Middlewares", "middlewares/*.py: code that wraps every request."),
            ("Config", "config/*.toml: one file per environment."),
        ],
    }
