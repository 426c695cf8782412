import os

from digwebs import Digwebs

_root = os.path.dirname(os.path.abspath(__file__))
public = Digwebs(root_path=_root)
admin = Digwebs(root_path=_root)
