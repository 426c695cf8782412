"""Add an ``X-Response-Time`` header to every response.

A middleware receives the request context and ``next``, the rest of the
chain. Code before ``next()`` runs on the way in, code after it on the way
out. ``order`` decides the nesting: lower numbers run first (outermost).
"""

import time

from digwebs import middleware


@middleware(order=10)
def timing(ctx, next):
    start = time.perf_counter()
    response = next()
    elapsed_ms = (time.perf_counter() - start) * 1000
    response.headers["X-Response-Time"] = f"{elapsed_ms:.2f}ms"
    return response
