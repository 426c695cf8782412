def create_app():
    raise ValueError("no secret configured")
