import os

from digwebs import Digwebs

CALLS = []


def create_app():
    CALLS.append(1)
    return Digwebs(root_path=os.path.dirname(os.path.abspath(__file__)))
