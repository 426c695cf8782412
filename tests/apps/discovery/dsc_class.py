from digwebs import Digwebs

app = Digwebs
