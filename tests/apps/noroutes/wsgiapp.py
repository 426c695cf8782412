import os

from digwebs import Digwebs

app = Digwebs(root_path=os.path.dirname(os.path.abspath(__file__)))
