"""digwebs: a small, fast WSGI web framework.

Everything a project imports lives here; nothing else is defined in this file.
"""

from .app import Digwebs as Digwebs
from .app import MatchResult as MatchResult
from .app import RouteInfo as RouteInfo
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
from .middleware import middleware as middleware
from .middleware import use as use
from .request import Request as Request
from .response import Response as Response
from .sessions import flash as flash
from .sessions import get_flashed_messages as get_flashed_messages
from .static import send_file as send_file
from .templating import render as render
from .templating import view as view
from .urls import url_for as url_for

__version__ = "0.1.0"
