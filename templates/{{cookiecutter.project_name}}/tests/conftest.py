import pytest

from wsgiapp import app as wsgi_app


@pytest.fixture
def app():
    return wsgi_app


@pytest.fixture
def client(app):
    return app.test_client()
