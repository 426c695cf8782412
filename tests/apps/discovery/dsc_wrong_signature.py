def app(environ):
    return []
