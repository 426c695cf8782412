"""Context-local objects built on :mod:`contextvars`.

What they guarantee:

- A value set in one thread, greenlet (greenlet >= 1.0) or asyncio task is
  never seen by another one running at the same time, because each of them
  runs in its own :class:`contextvars.Context`.
- An asyncio task, and a thread started with ``contextvars.copy_context().run``,
  starts with a *copy* of its creator's values; changes it makes stay its own.
- A plain new thread or a new greenlet starts with an *empty* context: it does
  not see the request that spawned it. Wrap the function it runs with
  :func:`digwebs.copy_current_request_context` to carry the request over.

:class:`Local` is a namespace, :class:`LocalStack` a stack, and
:class:`LocalProxy` forwards every operation to the object a context-local
currently holds, so module-level names such as ``request`` always mean "the
request being handled by *this* thread, greenlet or task".
"""

from __future__ import annotations

import contextvars
import copy
import math
import operator
import typing as t

__all__ = ["Local", "LocalStack", "LocalProxy"]

T = t.TypeVar("T")


class Local:
    """A namespace whose attributes are private to the current context.

    Each attribute write copies the underlying dict, so a context that was
    copied from this one (an asyncio task, say) keeps its own view.
    """

    __slots__ = ("_storage",)

    def __init__(self, name: str = "digwebs.local") -> None:
        object.__setattr__(self, "_storage", contextvars.ContextVar(name))

    def __iter__(self) -> t.Iterator[tuple[str, t.Any]]:
        return iter(self._storage.get({}).items())

    def __getattr__(self, name: str) -> t.Any:
        values = self._storage.get({})
        try:
            return values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: t.Any) -> None:
        values = self._storage.get({}).copy()
        values[name] = value
        self._storage.set(values)

    def __delattr__(self, name: str) -> None:
        values = self._storage.get({}).copy()
        try:
            del values[name]
        except KeyError:
            raise AttributeError(name) from None
        self._storage.set(values)

    def __release_local__(self) -> None:
        self._storage.set({})


class LocalStack(t.Generic[T]):
    """A stack private to the current context: ``push``, ``pop``, ``top``."""

    __slots__ = ("_storage",)

    def __init__(self, name: str = "digwebs.local_stack") -> None:
        self._storage: contextvars.ContextVar[list[T]] = contextvars.ContextVar(name)

    def push(self, obj: T) -> list[T]:
        """Push ``obj`` and return the new stack (a copy, never shared)."""
        stack = [*self._storage.get([]), obj]
        self._storage.set(stack)
        return list(stack)

    def pop(self) -> T | None:
        """Remove and return the top item, or ``None`` if the stack is empty."""
        stack = self._storage.get([])
        if not stack:
            return None
        self._storage.set(stack[:-1])
        return stack[-1]

    @property
    def top(self) -> T | None:
        """The top item, or ``None`` if the stack is empty."""
        stack = self._storage.get([])
        return stack[-1] if stack else None

    def __len__(self) -> int:
        return len(self._storage.get([]))


_UNBOUND = "object unbound: no value is set in the current context"
# Attributes that belong to the proxy itself rather than the proxied object.
# ``__copy__`` and ``__deepcopy__`` are here because ``copy.deepcopy`` looks
# ``__deepcopy__`` up on the instance: forwarded, it would find none on most
# objects, fall back to reducing the proxy and fail on its ContextVar.
_PROXY_OWN = frozenset(
    {"_get_current_object", "__wrapped__", "__class__", "_attr", "__copy__", "__deepcopy__"}
)

_get_own = object.__getattribute__


def _current(proxy: LocalProxy[t.Any]) -> t.Any:
    # Works whatever __getattribute__ a subclass installs (see digwebs.context).
    return _get_own(proxy, "_get_current_object")()


class LocalProxy(t.Generic[T]):
    """Forward attribute access and operators to a context-local object.

    ``local`` may be a :class:`contextvars.ContextVar`, a :class:`Local`, a
    :class:`LocalStack` or a callable returning the object. With ``name``, the
    proxy stands for that attribute of the object instead. When nothing is
    bound, any use raises :class:`RuntimeError` with ``unbound_message``,
    except ``repr`` (``<LocalProxy unbound>``), ``bool`` (``False``), ``dir``
    (``[]``), ``__class__`` (the proxy's own type) and dunder attributes read
    by introspection (``AttributeError``).

    What is forwarded: attribute reads, writes and deletes; calls; every
    operator with its reflected form (``3 - p``) and its in-place form;
    ``divmod``, ``pow`` with a modulus, ``round``, ``math.trunc``, ``floor``
    and ``ceil``; ``int``, ``float``, ``complex``, ``index``, ``bool``,
    ``str``, ``bytes``, ``repr``, ``format``, ``hash``, ``dir``; ``len``,
    ``iter``, ``next``, ``reversed``, ``in``, item get/set/delete,
    ``operator.length_hint``; ``with`` and ``async with``, ``await``,
    ``async for`` and ``anext``; ``isinstance(x, proxy)`` when the proxy
    stands for a class; ``copy.copy`` and ``copy.deepcopy``, which copy the
    proxied object (honouring its ``__copy__``/``__deepcopy__``) and return
    the copy, not a proxy. ``__class__`` is the proxied object's class, so
    ``isinstance(proxy, Request)`` holds; ``type(proxy)`` stays the proxy's
    class and ``isinstance(proxy, LocalProxy)`` holds too.

    In-place operators change the proxied object and leave the name bound to
    the proxy: ``p += [5]`` extends the list ``p`` stands for. An object
    without an in-place form of the operator (an int, a str, a tuple) would
    produce a new object that the proxy cannot hold, so the operation raises
    :class:`TypeError` and the object is left as it was (werkzeug silently
    drops the result instead).

    Not forwarded: ``del proxy`` deletes only the proxy; the descriptor
    protocol (``__get__``), so a proxy stored on a class is not a
    descriptor; ``os.fspath`` (``__fspath__`` would make every proxy pass
    ``isinstance(p, os.PathLike)``); ``weakref.ref(proxy)``.

    The lookup function is chosen once, in ``__init__``, so each proxied
    access costs one call and no type test. Call :meth:`_get_current_object`
    to pay the lookup once and hand the real object to code that does not
    understand proxies.
    """

    __slots__ = ("_get_current_object", "__wrapped__")

    _get_current_object: t.Callable[[], T]

    def __init__(
        self,
        local: t.Any,
        name: str | None = None,
        *,
        unbound_message: str | None = None,
    ) -> None:
        message = unbound_message or _UNBOUND
        get_object: t.Callable[[], t.Any]

        if isinstance(local, contextvars.ContextVar) and name is not None:
            # PERF: one closure for "attribute of the var's value", the shape
            # of every proxy in digwebs.context, instead of two nested calls.
            var, attr_of_var = local, name
            name = None

            def get_object() -> t.Any:
                try:
                    value = var.get()
                except LookupError:
                    raise RuntimeError(message) from None
                return getattr(value, attr_of_var)

        elif isinstance(local, contextvars.ContextVar):
            var = local

            def get_object() -> t.Any:
                try:
                    return var.get()
                except LookupError:
                    raise RuntimeError(message) from None

        elif isinstance(local, Local):
            if name is None:
                raise TypeError("a proxy to a Local needs the name of an attribute")
            namespace, attr = local, name
            name = None

            def get_object() -> t.Any:
                try:
                    return getattr(namespace, attr)
                except AttributeError:
                    raise RuntimeError(message) from None

        elif isinstance(local, LocalStack):
            stack = local

            def get_object() -> t.Any:
                top = stack.top
                if top is None:
                    raise RuntimeError(message)
                return top

        elif callable(local):
            get_object = local
        else:
            raise TypeError(f"cannot proxy {type(local).__name__!r}")

        if name is not None:
            get_outer, attr_name = get_object, name

            def get_object() -> t.Any:
                return getattr(get_outer(), attr_name)

        object.__setattr__(self, "_get_current_object", get_object)
        object.__setattr__(self, "__wrapped__", local)

    def __getattribute__(self, name: str) -> t.Any:
        # PERF: __getattribute__ rather than __getattr__: the latter only runs
        # after a failed normal lookup has built an AttributeError, which
        # costs more than the forwarding itself.
        if name in _PROXY_OWN:
            return _get_own(self, name)
        try:
            obj = _get_own(self, "_get_current_object")()
        except RuntimeError:
            if name[:2] == "__":
                # Introspection must see "no such attribute", not a crash.
                raise AttributeError(name) from None
            raise
        return getattr(obj, name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        setattr(_current(self), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(_current(self), name)

    def __repr__(self) -> str:
        try:
            return repr(_current(self))
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"

    def __bool__(self) -> bool:
        try:
            return bool(_current(self))
        except RuntimeError:
            return False

    def __dir__(self) -> list[str]:
        try:
            return dir(_current(self))
        except RuntimeError:
            return []

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # so isinstance(proxy, Request) works
        try:
            return type(_current(self))
        except RuntimeError:
            return type(self)

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return _current(self)(*args, **kwargs)

    def __copy__(self) -> t.Any:
        return copy.copy(_current(self))

    def __deepcopy__(self, memo: dict[int, t.Any]) -> t.Any:
        return copy.deepcopy(_current(self), memo)

    def __length_hint__(self) -> t.Any:
        # operator.length_hint(p, default) must give the *caller's* default
        # when the object has no hint: NotImplemented says "no hint".
        obj = _current(self)
        hint = getattr(type(obj), "__length_hint__", None)
        return NotImplemented if hint is None else hint(obj)


# -- the forwarded operations ---------------------------------------------------------
#
# Python looks operators up on the type, never through __getattribute__, so
# each one the proxy supports has to exist on the class. Each entry of the
# table below says what ``<dunder>(proxy, *args)`` does with the proxied
# object ``obj``. ``__del__`` is deliberately absent: deleting the proxy must
# not delete the object behind it.


def _reflected(op: t.Callable[[t.Any, t.Any], t.Any]) -> t.Callable[[t.Any, t.Any], t.Any]:
    """``__rsub__(obj, other)`` is ``other - obj``: the operands swapped."""

    def reflected(obj: t.Any, other: t.Any) -> t.Any:
        return op(other, obj)

    return reflected


def _protocol(name: str, refusal: str) -> t.Callable[..., t.Any]:
    """Call the object's own ``name`` method, looked up on its type as Python
    does; an object without one gets the TypeError Python itself would raise
    (``refusal``, with ``{}`` for the type's name)."""

    def call(obj: t.Any, *args: t.Any) -> t.Any:
        method = getattr(type(obj), name, None)
        if method is None:
            raise TypeError(refusal.format(type(obj).__name__))
        return method(obj, *args)

    return call


_NO_CM = "{!r} object does not support the context manager protocol"
_NO_ASYNC_CM = "{!r} object does not support the asynchronous context manager protocol"

_FORWARDED: dict[str, t.Callable[..., t.Any]] = {
    # conversions and text
    "__str__": str,
    "__bytes__": bytes,
    "__format__": format,
    "__hash__": hash,
    "__int__": int,
    "__float__": float,
    "__complex__": complex,
    "__index__": operator.index,
    "__round__": round,
    "__trunc__": math.trunc,
    "__floor__": math.floor,
    "__ceil__": math.ceil,
    # comparisons
    "__eq__": operator.eq,
    "__ne__": operator.ne,
    "__lt__": operator.lt,
    "__le__": operator.le,
    "__gt__": operator.gt,
    "__ge__": operator.ge,
    # containers and iteration
    "__len__": len,
    "__iter__": iter,
    "__next__": next,
    "__reversed__": reversed,
    "__contains__": operator.contains,
    "__getitem__": operator.getitem,
    "__setitem__": operator.setitem,
    "__delitem__": operator.delitem,
    # unary arithmetic
    "__neg__": operator.neg,
    "__pos__": operator.pos,
    "__abs__": abs,
    "__invert__": operator.invert,
    # a proxy standing for a class: isinstance(x, proxy), issubclass(c, proxy)
    "__instancecheck__": lambda cls, obj: isinstance(obj, cls),
    "__subclasscheck__": lambda cls, sub: issubclass(sub, cls),
    # context managers and coroutines
    "__enter__": _protocol("__enter__", _NO_CM),
    "__exit__": _protocol("__exit__", _NO_CM),
    "__aenter__": _protocol("__aenter__", _NO_ASYNC_CM),
    "__aexit__": _protocol("__aexit__", _NO_ASYNC_CM),
    "__await__": _protocol("__await__", "object {} can't be used in 'await' expression"),
    "__aiter__": _protocol("__aiter__", "'async for' requires an object with __aiter__, got {}"),
    "__anext__": _protocol("__anext__", "{!r} object is not an async iterator"),
}

# Binary operators: name -> (operator, symbol). Each gives the proxy
# __<name>__, the reflected __r<name>__ and the in-place __i<name>__.
_BINARY: dict[str, tuple[t.Callable[..., t.Any], str]] = {
    "add": (operator.add, "+"),
    "sub": (operator.sub, "-"),
    "mul": (operator.mul, "*"),
    "matmul": (operator.matmul, "@"),
    "truediv": (operator.truediv, "/"),
    "floordiv": (operator.floordiv, "//"),
    "mod": (operator.mod, "%"),
    "pow": (pow, "**"),  # pow, not operator.pow: three-argument pow(p, e, m) too
    "lshift": (operator.lshift, "<<"),
    "rshift": (operator.rshift, ">>"),
    "and": (operator.and_, "&"),
    "or": (operator.or_, "|"),
    "xor": (operator.xor, "^"),
}


def _in_place(name: str, op: t.Callable[..., t.Any], symbol: str) -> t.Callable[..., t.Any]:
    """``p <symbol>= other``: the object's own in-place method ``name`` changes
    it; the statement leaves the name bound to the proxy.

    The method is called directly rather than through ``operator.i<op>``:
    for a list, CPython's ``x += y`` tries ``y.__radd__`` before the list's
    in-place concatenation, and with ``y`` a proxy that would build a new
    list instead of extending ``x``. A proxy on the right stands aside for
    the same reason (``set.__isub__`` accepts only a real set).
    """

    def method(self: LocalProxy[t.Any], other: t.Any) -> LocalProxy[t.Any]:
        obj = _current(self)
        if issubclass(type(other), LocalProxy):
            other = _current(other)
        in_place = getattr(type(obj), name, None)
        result = NotImplemented if in_place is None else in_place(obj, other)
        if result is obj:
            return self
        if result is NotImplemented:
            # Python would fall back to the plain operator and rebind the
            # name to a new object, which the proxy cannot hold. Run it all
            # the same so that its own error (ZeroDivisionError, TypeError
            # for unsupported operands) is the one raised.
            op(obj, other)
        raise TypeError(
            f"in-place {symbol}= on the proxied {type(obj).__name__!r} object makes a new "
            "object, which a proxy cannot hold; assign the new value where the proxy "
            "reads it from"
        )

    return method


def _forwarding(op: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """``<dunder>(p, *args)`` is ``op(obj, *args)``."""

    def method(self: LocalProxy[t.Any], *args: t.Any) -> t.Any:
        return op(_current(self), *args)

    return method


def _install(name: str, method: t.Callable[..., t.Any]) -> None:
    method.__name__ = name
    method.__qualname__ = f"LocalProxy.{name}"
    setattr(LocalProxy, name, method)


for _name, _op in _FORWARDED.items():
    _install(_name, _forwarding(_op))
for _name, (_op, _symbol) in _BINARY.items():
    _install(f"__{_name}__", _forwarding(_op))
    _install(f"__r{_name}__", _forwarding(_reflected(_op)))
    _install(f"__i{_name}__", _in_place(f"__i{_name}__", _op, _symbol))
_install("__divmod__", _forwarding(divmod))
_install("__rdivmod__", _forwarding(_reflected(divmod)))
del _name, _op, _symbol
