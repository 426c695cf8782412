_wait_callback = None


def set_wait_callback(callback):
    global _wait_callback
    _wait_callback = callback


def get_wait_callback():
    return _wait_callback
