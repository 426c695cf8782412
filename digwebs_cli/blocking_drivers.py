"""Loop-blocking C drivers under gevent: which are imported, and what to use instead.

Asked by ``digwebs serve --check`` (in a child that imports the app like a
worker) and by every gevent worker once it has loaded the app.
"""

from __future__ import annotations

import sys
import typing as t

# --------------------------------------------------------------------------
# Loop-blocking drivers under gevent


def _psycopg2_unpatched() -> bool:
    module = sys.modules.get("psycopg2")
    extensions = getattr(module, "extensions", None) or sys.modules.get("psycopg2.extensions")
    get_wait_callback = getattr(extensions, "get_wait_callback", None)
    if get_wait_callback is None:
        return True
    try:
        return get_wait_callback() is None
    except Exception:
        return True


# module -> (is it blocking now?, what to do instead)
BLOCKING_DRIVERS: dict[str, tuple[t.Callable[[], bool], str]] = {
    "psycopg2": (
        _psycopg2_unpatched,
        "psycopg2 waits for PostgreSQL inside C and blocks the gevent loop: "
        "pip install psycogreen, and call psycogreen.gevent.patch_psycopg() "
        "at the top of wsgiapp.py, before anything connects",
    ),
    "MySQLdb": (
        lambda: (
            not getattr(sys.modules.get("MySQLdb"), "__digwebs_cooperative__", False)
            and "pymysql" not in sys.modules
        ),
        "mysqlclient (MySQLdb) waits for MySQL inside C and blocks the gevent loop: "
        "use PyMySQL (pip install pymysql; pure Python, so gevent makes it cooperative), "
        "e.g. call pymysql.install_as_MySQLdb() before MySQLdb is imported",
    ),
    "pylibmc": (
        lambda: True,
        "pylibmc talks to memcached inside C and blocks the gevent loop: "
        "use pymemcache (pure Python) instead",
    ),
    "pymssql": (
        lambda: True,
        "pymssql talks to SQL Server inside C and blocks the gevent loop: "
        "use python-tds or run the queries in gevent's threadpool",
    ),
    "cx_Oracle": (
        lambda: True,
        "cx_Oracle blocks the gevent loop: use python-oracledb in thin mode (pure Python)",
    ),
    "zmq": (
        lambda: "zmq.green" not in sys.modules,
        "pyzmq blocks the gevent loop: import zmq.green as zmq instead of zmq",
    ),
}


def blocking_driver_problems() -> list[str]:
    """Loop-blocking C drivers imported (so far) in this gevent process, with the fix."""
    problems = []
    for module, (is_blocking, fix) in BLOCKING_DRIVERS.items():
        if module in sys.modules:
            try:
                blocking = is_blocking()
            except Exception:
                blocking = True
            if blocking:
                problems.append(fix)
    return problems
