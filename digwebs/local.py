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
_PROXY_OWN = frozenset({"_get_current_object", "__wrapped__", "__class__", "_attr"})


class LocalProxy(t.Generic[T]):
    """Forward attribute access and operators to a context-local object.

    ``local`` may be a :class:`contextvars.ContextVar`, a :class:`Local`, a
    :class:`LocalStack` or a callable returning the object. With ``name``, the
    proxy stands for that attribute of the object instead. When nothing is
    bound, any use raises :class:`RuntimeError` with ``unbound_message``.

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
            return object.__getattribute__(self, name)
        try:
            obj = object.__getattribute__(self, "_get_current_object")()
        except RuntimeError:
            if name[:2] == "__":
                # Introspection must see "no such attribute", not a crash.
                raise AttributeError(name) from None
            raise
        return getattr(obj, name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        setattr(self._get_current_object(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._get_current_object(), name)

    def __repr__(self) -> str:
        try:
            return repr(self._get_current_object())
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"

    def __bool__(self) -> bool:
        try:
            return bool(self._get_current_object())
        except RuntimeError:
            return False

    def __dir__(self) -> list[str]:
        try:
            return dir(self._get_current_object())
        except RuntimeError:
            return []

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # so isinstance(proxy, Request) works
        try:
            return type(self._get_current_object())
        except RuntimeError:
            return LocalProxy


def _forward(op: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    def method(self: LocalProxy[t.Any], *args: t.Any) -> t.Any:
        return op(self._get_current_object(), *args)

    return method


# Operators are looked up on the type, never through __getattr__, so each one
# the proxy supports has to exist on the class. ``__del__`` is deliberately
# absent: deleting the proxy must not delete the object behind it.
_OPERATORS: dict[str, t.Callable[..., t.Any]] = {
    "__str__": str,
    "__bytes__": bytes,
    "__format__": format,
    "__hash__": hash,
    "__len__": len,
    "__iter__": iter,
    "__reversed__": reversed,
    "__contains__": operator.contains,
    "__getitem__": operator.getitem,
    "__setitem__": operator.setitem,
    "__delitem__": operator.delitem,
    "__enter__": lambda obj: obj.__enter__(),
    "__exit__": lambda obj, *a: obj.__exit__(*a),
    "__eq__": operator.eq,
    "__ne__": operator.ne,
    "__lt__": operator.lt,
    "__le__": operator.le,
    "__gt__": operator.gt,
    "__ge__": operator.ge,
    "__add__": operator.add,
    "__sub__": operator.sub,
    "__mul__": operator.mul,
    "__truediv__": operator.truediv,
    "__floordiv__": operator.floordiv,
    "__mod__": operator.mod,
    "__pow__": operator.pow,
    "__and__": operator.and_,
    "__or__": operator.or_,
    "__xor__": operator.xor,
    "__neg__": operator.neg,
    "__pos__": operator.pos,
    "__abs__": abs,
    "__invert__": operator.invert,
    "__int__": int,
    "__float__": float,
    "__index__": operator.index,
    "__radd__": lambda obj, other: other + obj,
    "__rmul__": lambda obj, other: other * obj,
}

for _name, _op in _OPERATORS.items():
    setattr(LocalProxy, _name, _forward(_op))
del _name, _op


def _call(self: LocalProxy[t.Any], *args: t.Any, **kwargs: t.Any) -> t.Any:
    # Calls take keyword arguments, which _forward does not pass on.
    return self._get_current_object()(*args, **kwargs)


LocalProxy.__call__ = _call  # type: ignore[method-assign]
