"""The request context and the proxies that read it.

One :class:`contextvars.ContextVar` holds the active :class:`RequestContext`;
``ctx``, ``request``, ``response``, ``g``, ``session`` and ``current_app`` are
proxies derived from it. Pushing or popping a context is therefore one
``set`` and one ``reset`` per request, and threads, greenlets and asyncio
tasks are isolated by the same mechanism (see :mod:`digwebs.local`).

``current_app`` also resolves while an application is loading its
controllers, so ``@current_app.get(...)`` at module level works as it did in
the original digwebs.

Every proxy forwards the operations :class:`~digwebs.local.LocalProxy`
lists. In particular ``copy.copy(request)`` and ``copy.deepcopy(response)``
copy the object the proxy stands for (a :class:`Request`, a
:class:`Response`; ``g`` and ``session`` alike), as werkzeug's proxies do.
An object that cannot be deep-copied fails the same way through its proxy:
the application holds locks, so ``copy.deepcopy(current_app)`` and
``copy.deepcopy(ctx)`` raise :class:`TypeError`, as they do on the objects.
"""

from __future__ import annotations

import contextvars
import functools
import operator
import typing as t

from .local import _PROXY_OWN, LocalProxy
from .wrappers.request import Request
from .wrappers.response import Response

if t.TYPE_CHECKING:
    from .app import Digwebs
    from .sessions import Session

_cv_ctx: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("digwebs.ctx")
# The application whose controllers are being imported by ``app.load()``.
_cv_loading_app: contextvars.ContextVar[Digwebs] = contextvars.ContextVar("digwebs.loading_app")

_NO_REQUEST = """\
Working outside of a request context.

This code tried to use the current request ('ctx', 'request', 'response', 'g'
or 'session'), which only exists while a request is being handled. To run it
outside a request, for example in a test or a shell, push a context first:

    with app.test_request_context("/some/path"):
        ...

In a thread or greenlet started from a handler, wrap the function it runs with
digwebs.copy_current_request_context()."""

_NO_APP = """\
Working outside of an application context.

'current_app' is only set while a request is handled or while app.load() is
importing controllers and middlewares. Outside of those, use the application
object directly, or push a context with 'with app.test_request_context():'."""


class _Globals:
    """Free-form per-request storage behind the ``g`` proxy."""

    def get(self, name: str, default: t.Any = None) -> t.Any:
        """Return attribute ``name``, or ``default`` if it is not set."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: t.Any = None) -> t.Any:
        """Remove attribute ``name`` and return it, or ``default`` if it is not set."""
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: t.Any = None) -> t.Any:
        """Return attribute ``name``, setting it to ``default`` first if it is not set."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self.__dict__

    def __iter__(self) -> t.Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        return f"<digwebs.g {self.__dict__!r}>"


_new_object = object.__new__


class RequestContext:
    """Everything that belongs to one request.

    ``ctx.request`` and ``ctx.app`` are always set; ``ctx.response`` is the
    response being prepared, created on first use so that handlers that only
    return a value never pay for it. Any other attribute may be set freely to
    carry data between middleware and handlers (``ctx.user = ...``).

    Once the request is routed, ``ctx.route`` is the matched rule and
    ``ctx.params`` its converted path parameters (both ``None`` before, and
    for a request no rule matched).
    """

    # PERF: class-level defaults instead of __slots__ set in __init__: a
    # request only pays for the attributes it actually sets.
    _response: Response | None = None
    _g: _Globals | None = None
    _session: Session | None = None
    route: t.Any = None
    params: dict[str, t.Any] | None = None

    def __init__(self, app: Digwebs, request: Request) -> None:
        self.app = app
        self.request = request

    @property
    def response(self) -> Response:
        """The response being prepared for this request."""
        resp = self._response
        if resp is None:
            resp = self._response = self.app.response_class()
        return resp

    @response.setter
    def response(self, value: Response) -> None:
        self._response = value

    @property
    def g(self) -> _Globals:
        """A namespace for data that lives exactly as long as this request."""
        g = self._g
        if g is None:
            g = self._g = _Globals()
        return g

    @property
    def session(self) -> Session:
        """The signed-cookie session, loaded on first use."""
        s = self._session
        if s is None:
            s = self._session = self.app.session_interface.open(self.app, self.request)
        return s

    def push(self) -> contextvars.Token[RequestContext]:
        """Make this the current context; pass the token to :meth:`pop`."""
        return _cv_ctx.set(self)

    @staticmethod
    def pop(token: contextvars.Token[RequestContext]) -> None:
        """Make the context that was current before :meth:`push` current again.

        :param token: what that :meth:`push` returned.
        :raises RuntimeError: the token was already used.
        :raises ValueError: the token was made in another
            :class:`contextvars.Context`.
        """
        _cv_ctx.reset(token)

    def __enter__(self) -> RequestContext:
        self.__dict__["_digwebs_tokens"] = [
            *self.__dict__.get("_digwebs_tokens", ()),
            _cv_ctx.set(self),
        ]
        return self

    def __exit__(self, *exc_info: object) -> None:
        tokens = self.__dict__["_digwebs_tokens"]
        _cv_ctx.reset(tokens.pop())

    def __repr__(self) -> str:
        req = self.request
        return f"<RequestContext {req.method} {req.path!r}>"


def _get_ctx() -> RequestContext:
    try:
        return _cv_ctx.get()
    except LookupError:
        raise RuntimeError(_NO_REQUEST) from None


def _get_app() -> Digwebs:
    c = _cv_ctx.get(None)
    if c is not None:
        return c.app
    try:
        return _cv_loading_app.get()
    except LookupError:
        raise RuntimeError(_NO_APP) from None


def has_request_context() -> bool:
    """Tell whether a request is being handled in the current context."""
    return _cv_ctx.get(None) is not None


class _ContextAttrProxy(LocalProxy[t.Any]):
    """A :class:`LocalProxy` for one attribute of the current request context."""

    __slots__ = ("_attr",)

    def __init__(self, attr: str) -> None:
        super().__init__(_cv_ctx, attr, unbound_message=_NO_REQUEST)
        object.__setattr__(self, "_attr", attr)


def _unbound(name: str) -> Exception:
    if name[:2] == "__":
        # Introspection (getattr(x, "__module__", None), hasattr, inspect)
        # must see "no such attribute" on an unbound proxy, not a crash.
        return AttributeError(name)
    return RuntimeError(_NO_REQUEST)


def _context_attr_proxy(attr: str, cls: type | None = None) -> t.Any:
    """Make the proxy for ``ctx.<attr>``.

    PERF: attribute access on ``request``, ``g`` and friends is the hot use
    of context locals in handlers. Each proxy gets its own class. When the
    class of the proxied object is known (``request``, ``response``), every
    public attribute of that class gets a property on the proxy that reads
    ``ctx.<attr>.<name>`` with one :func:`operator.attrgetter` call, and only
    other names take the ``__getattr__`` fallback (an AttributeError inside
    the normal lookup first). Otherwise (``g``, whose attributes are the
    user's) ``__getattribute__`` forwards every name, with the attribute
    name and the context lookup bound as closure constants.
    """
    get_ctx = _cv_ctx.get

    def forward(self: t.Any, name: str) -> t.Any:
        try:
            c = get_ctx()
        except LookupError:
            raise _unbound(name) from None
        return getattr(getattr(c, attr), name)

    namespace: dict[str, t.Any] = {"__slots__": ()}
    if cls is None:
        own = _PROXY_OWN
        get_own = object.__getattribute__

        def __getattribute__(self: t.Any, name: str) -> t.Any:
            if name in own:
                return get_own(self, name)
            return forward(self, name)

        namespace["__getattribute__"] = __getattribute__
    else:
        # The normal lookup finds the properties (and the proxy's own
        # attributes); a name it does not find is forwarded by __getattr__.
        namespace["__getattribute__"] = object.__getattribute__
        namespace["__getattr__"] = forward
        # Class attributes, and instance attributes the class annotates
        # (``Request.environ``).
        names = set(dir(cls)).union(*(vars(k).get("__annotations__", {}) for k in cls.__mro__))
        for name in sorted(names):
            if not name.startswith("_"):
                namespace[name] = property(_attribute_getter(attr, name))
    proxy_cls = type(f"{attr.title()}Proxy", (_ContextAttrProxy,), namespace)
    return proxy_cls(attr)


def _attribute_getter(attr: str, name: str) -> t.Callable[[t.Any], t.Any]:
    """The getter of the proxy property ``name``: ``ctx.<attr>.<name>`` of the current context."""
    get_ctx = _cv_ctx.get
    read = operator.attrgetter(f"{attr}.{name}")

    def get(self: t.Any) -> t.Any:
        # try, not get_ctx(None) and a test: no argument to pass, and free
        # when it does not raise. Only the lookup is inside: a KeyError of
        # the attribute itself is a LookupError too.
        try:
            c = get_ctx()
        except LookupError:
            raise _unbound(name) from None
        return read(c)

    get.__name__ = get.__qualname__ = f"get_{name}"
    return get


ctx: RequestContext = LocalProxy(_cv_ctx, unbound_message=_NO_REQUEST)  # type: ignore[assignment]
request: Request = _context_attr_proxy("request", Request)
response: Response = _context_attr_proxy("response", Response)
g: _Globals = _context_attr_proxy("g")
session: Session = _context_attr_proxy("session")
current_app: Digwebs = LocalProxy(_get_app)  # type: ignore[assignment]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def copy_current_request_context(fn: F) -> F:
    """Let ``fn`` see the current request when it runs elsewhere.

    A thread or greenlet started inside a handler begins with an empty
    context, so ``request`` and ``g`` are unbound there. Wrap the function it
    runs; the wrapper makes the request that was current *at wrapping time*
    current again for the duration of each call::

        @copy_current_request_context
        def send_mail():
            log(request.path)

        gevent.spawn(send_mail)

    The request's objects are shared, not copied: do not mutate them from
    several places at once.
    """
    captured = _get_ctx()

    @functools.wraps(fn)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        token = _cv_ctx.set(captured)
        try:
            return fn(*args, **kwargs)
        finally:
            _cv_ctx.reset(token)

    return t.cast(F, wrapper)
