SETTING = 1


def _setup():
    raise RuntimeError("database URL is not set")


_setup()
