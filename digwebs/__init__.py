"""digwebs: a small, fast WSGI web framework.

Everything a project imports lives here; nothing else is defined in this file
but the lazy ``__version__``. ``MiddlewareInfo``, ``dump_cookie``,
``json_bytes``, ``parse_status`` and ``status_line`` were importable only from
the modules ``digwebs.middleware`` and ``digwebs.response``, which the
decorator and the proxy of the same names shadowed; those modules are now
:mod:`digwebs.chains` and :mod:`digwebs.wrappers.response`.
"""

import importlib.metadata as _metadata
import typing as _t

from .app import Digwebs as Digwebs
from .app import MatchResult as MatchResult
from .app import RouteInfo as RouteInfo
from .chains import MiddlewareInfo as MiddlewareInfo
from .chains import middleware as middleware
from .chains import use as use
from .config import Config as Config
from .config import ConfigError as ConfigError
from .context import copy_current_request_context as copy_current_request_context
from .context import ctx as ctx
from .context import current_app as current_app
from .context import g as g
from .context import has_request_context as has_request_context
from .context import request as request
from .context import response as response
from .context import session as session
from .csrf import CSRFError as CSRFError
from .csrf import csrf_exempt as csrf_exempt
from .csrf import csrf_token as csrf_token
from .decorators import api as api
from .decorators import delete as delete
from .decorators import get as get
from .decorators import patch as patch
from .decorators import post as post
from .decorators import put as put
from .decorators import route as route
from .errors import APIError as APIError
from .errors import APIPermissionError as APIPermissionError
from .errors import APIResourceNotFoundError as APIResourceNotFoundError
from .errors import APIValueError as APIValueError
from .errors import HttpError as HttpError
from .errors import abort as abort
from .errors import redirect as redirect
from .hosts import DisallowedHost as DisallowedHost
from .local import Local as Local
from .local import LocalProxy as LocalProxy
from .local import LocalStack as LocalStack
from .sessions import flash as flash
from .sessions import get_flashed_messages as get_flashed_messages
from .static import send_file as send_file
from .templating import render as render
from .templating import view as view
from .urls import url_for as url_for
from .wrappers.request import Request as Request
from .wrappers.response import Response as Response
from .wrappers.response import dump_cookie as dump_cookie
from .wrappers.response import json_bytes as json_bytes
from .wrappers.response import parse_status as parse_status
from .wrappers.response import status_line as status_line


def __getattr__(name: str) -> _t.Any:
    """Serve ``__version__`` from the installed distribution's metadata.

    The version is written once, in ``pyproject.toml``; reading it here when
    asked (as Flask does) keeps ``import digwebs`` from opening the metadata.
    """
    if name == "__version__":
        return _metadata.version("digwebs")
    raise AttributeError(f"module 'digwebs' has no attribute {name!r}")
