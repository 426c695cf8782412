"""digwebs.local: Local, LocalStack and LocalProxy, isolated per thread and per task."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from digwebs.local import Local, LocalProxy, LocalStack


def test_public_names():
    import digwebs
    import digwebs.local

    assert set(digwebs.local.__all__) == {"Local", "LocalStack", "LocalProxy"}
    assert (digwebs.Local, digwebs.LocalStack, digwebs.LocalProxy) == (
        Local,
        LocalStack,
        LocalProxy,
    )


def test_local_attributes():
    loc = Local()
    loc.a = 1
    assert loc.a == 1 and dict(loc) == {"a": 1}
    del loc.a
    with pytest.raises(AttributeError):
        _ = loc.a
    with pytest.raises(AttributeError):
        del loc.a


def test_local_release():
    loc = Local()
    loc.x = 1
    loc.__release_local__()
    assert list(loc) == []


def test_local_stack_push_pop_top():
    stack: LocalStack[int] = LocalStack()
    assert stack.top is None and stack.pop() is None and len(stack) == 0
    stack.push(1)
    stack.push(2)
    assert stack.top == 2 and len(stack) == 2
    assert stack.pop() == 2 and stack.pop() == 1 and stack.top is None


def test_local_stack_push_returns_a_copy():
    stack: LocalStack[int] = LocalStack()
    returned = stack.push(1)
    returned.append(99)
    assert stack.top == 1 and len(stack) == 1


def test_local_is_per_thread():
    loc = Local()
    loc.value = "main"
    seen = []
    thread = threading.Thread(target=lambda: seen.append(getattr(loc, "value", None)))
    thread.start()
    thread.join()
    assert seen == [None] and loc.value == "main"


def test_copied_context_does_not_write_back():
    loc = Local()
    loc.value = "outer"
    contextvars.copy_context().run(lambda: setattr(loc, "value", "inner"))
    assert loc.value == "outer"


def test_local_and_stack_isolated_across_many_threads():
    loc, stack = Local(), LocalStack()
    barrier = threading.Barrier(50)
    errors = []

    def work(i):
        loc.id = i
        stack.push(i)
        barrier.wait()  # every thread has written before any reads back
        if loc.id != i or stack.top != i or len(stack) != 1:
            errors.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


def test_local_stack_and_proxy_isolated_across_asyncio_tasks():
    loc, stack = Local(), LocalStack()
    proxy = LocalProxy(stack)

    async def task(i):
        loc.id = i
        stack.push({"id": i})
        await asyncio.sleep(0.01 * (i % 5))
        return loc.id, stack.top["id"], proxy["id"], len(stack)

    async def main():
        return await asyncio.gather(*(task(i) for i in range(200)))

    assert asyncio.run(main()) == [(i, i, i, 1) for i in range(200)]


def test_asyncio_task_starts_with_copy_of_parent():
    loc = Local()

    async def child():
        seen = loc.value
        loc.value = "child"
        return seen

    async def main():
        loc.value = "parent"
        seen = await asyncio.create_task(child())
        return seen, loc.value

    assert asyncio.run(main()) == ("parent", "parent")


def test_proxy_to_contextvar():
    var: contextvars.ContextVar[list[int]] = contextvars.ContextVar("v")
    proxy = LocalProxy(var, unbound_message="nothing here")
    with pytest.raises(RuntimeError, match="nothing here"):
        len(proxy)
    token = var.set([1, 2, 3])
    try:
        assert len(proxy) == 3 and proxy[0] == 1 and 2 in proxy and list(proxy) == [1, 2, 3]
        assert isinstance(proxy, list) and proxy == [1, 2, 3]
    finally:
        var.reset(token)


def test_proxy_to_contextvar_attribute():
    var: contextvars.ContextVar[object] = contextvars.ContextVar("v")
    proxy = LocalProxy(var, "real")
    token = var.set(type("Holder", (), {"real": 42})())
    try:
        assert proxy + 1 == 43 and int(proxy) == 42 and str(proxy) == "42"
    finally:
        var.reset(token)


def test_proxy_to_local_attribute():
    loc = Local()
    proxy = LocalProxy(loc, "user")
    with pytest.raises(RuntimeError):
        _ = proxy.name
    loc.user = type("User", (), {"name": "ann"})()
    assert proxy.name == "ann"
    proxy.name = "bob"
    assert loc.user.name == "bob"


def test_proxy_to_local_needs_a_name():
    with pytest.raises(TypeError):
        LocalProxy(Local())


def test_proxy_to_stack_top():
    stack: LocalStack[dict[str, int]] = LocalStack()
    proxy = LocalProxy(stack)
    assert not proxy and repr(proxy) == "<LocalProxy unbound>" and dir(proxy) == []
    stack.push({"a": 1})
    proxy["b"] = 2
    assert stack.top == {"a": 1, "b": 2} and bool(proxy)
    del proxy["a"]
    assert stack.pop() == {"b": 2}


def test_proxy_to_callable_and_call_forwarding():
    proxy = LocalProxy(lambda: lambda x, y=0: x + y)
    assert proxy(1, y=2) == 3


def test_proxy_rejects_non_proxyable():
    with pytest.raises(TypeError):
        LocalProxy(42)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (lambda p: p - 1, 9),
        (lambda p: p * 2, 20),
        (lambda p: 2 * p, 20),
        (lambda p: 1 + p, 11),
        (lambda p: p / 4, 2.5),
        (lambda p: p // 3, 3),
        (lambda p: p % 3, 1),
        (lambda p: p**2, 100),
        (lambda p: -p, -10),
        (lambda p: abs(p), 10),
        (lambda p: p < 11, True),
        (lambda p: p >= 10, True),
        (lambda p: hash(p), hash(10)),
        (lambda p: f"{p:03d}", "010"),
    ],
)
def test_proxy_operators(expr, expected):
    assert expr(LocalProxy(lambda: 10)) == expected


# -- item 25: every operation is forwarded -------------------------------------------


def _proxy(value):
    return LocalProxy(lambda: value)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (lambda p: 3 - p, -7),
        (lambda p: 100 / p, 10.0),
        (lambda p: 25 // p, 2),
        (lambda p: 25 % p, 5),
        (lambda p: 2**p, 1024),
        (lambda p: 6 & p, 2),
        (lambda p: 5 | p, 15),
        (lambda p: 6 ^ p, 12),
        (lambda p: 1 << p, 1024),
        (lambda p: 4096 >> p, 4),
        (lambda p: p << 1, 20),
        (lambda p: p >> 1, 5),
        (lambda p: divmod(p, 3), (3, 1)),
        (lambda p: divmod(23, p), (2, 3)),
        (lambda p: pow(p, 2, 7), 2),
        (lambda p: round(p), 10),
        (lambda p: round(p, -1), 10),
        (lambda p: complex(p), 10 + 0j),
        (lambda p: int(p), 10),
        (lambda p: float(p), 10.0),
        (lambda p: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10][p], 10),
    ],
)
def test_reversed_shift_divmod_round_and_conversions_are_forwarded(expr, expected):
    assert expr(_proxy(10)) == expected


def test_math_trunc_floor_ceil_and_round_of_a_float():
    import math

    p = _proxy(2.5)
    assert (math.trunc(p), math.floor(p), math.ceil(p), round(p), round(p, 1)) == (
        2,
        2,
        3,
        2,
        2.5,
    )


def test_complex_is_the_objects_own_complex():
    # Without __complex__ on the proxy, complex() fell back to __float__ or
    # __index__ and lost the imaginary part of objects that define both.
    class Both:
        def __complex__(self):
            return 1 + 2j

        def __float__(self):
            return 1.0

    assert complex(_proxy(Both())) == 1 + 2j
    assert complex(_proxy(3 + 4j)) == 3 + 4j


def test_matmul_and_its_reflected_and_in_place_forms():
    class Mat:
        def __init__(self):
            self.log = []

        def __matmul__(self, other):
            return ("mat", other)

        def __rmatmul__(self, other):
            return ("rmat", other)

        def __imatmul__(self, other):
            self.log.append(other)
            return self

    m = Mat()
    p = _proxy(m)
    assert p @ 1 == ("mat", 1) and 2 @ p == ("rmat", 2)
    p @= 3
    assert m.log == [3] and type(p) is LocalProxy


@pytest.mark.parametrize(
    ("start", "apply", "expected"),
    [
        ([1], lambda p: p.__iadd__([5]), [1, 5]),
        ([1], lambda p: p.__imul__(2), [1, 1]),
        ({1}, lambda p: p.__ior__({2}), {1, 2}),
        ({1, 2}, lambda p: p.__iand__({2}), {2}),
        ({1, 2}, lambda p: p.__isub__({2}), {1}),
        ({1, 2}, lambda p: p.__ixor__({2, 3}), {1, 3}),
        ({"a": 1}, lambda p: p.__ior__({"b": 2}), {"a": 1, "b": 2}),
    ],
)
def test_in_place_operators_change_the_object_and_keep_the_proxy(start, apply, expected):
    # The explicit dunder call reaches the object's own method (forwarded
    # attribute access); the statement form below goes through the proxy's.
    p = _proxy(start)
    apply(p)
    assert start == expected and type(p) is LocalProxy


def test_in_place_statements_extend_the_proxied_list():
    data = [1]
    p = _proxy(data)
    alias = p
    p += [5]
    p *= 2
    assert data == [1, 5, 1, 5] and p is alias


def test_in_place_statements_on_sets_and_dicts():
    s, d = {1, 2, 3}, {"a": 1}
    ps, pd = _proxy(s), _proxy(d)
    ps -= {1}
    ps |= {9}
    ps &= {2, 9}
    ps ^= {4}
    pd |= {"b": 2}
    assert s == {2, 9, 4} and d == {"a": 1, "b": 2}
    assert type(ps) is LocalProxy and type(pd) is LocalProxy


def test_in_place_operator_on_an_immutable_object_refuses():
    # An int has no in-place +=: the result is a new object that the proxy
    # cannot hold. werkzeug drops the result silently; digwebs says so.
    p = _proxy(1)
    with pytest.raises(TypeError, match=r"\+="):
        p += 1
    with pytest.raises(TypeError, match=r"<<="):
        p <<= 1


def test_next_iter_reversed_and_length_hint():
    import operator

    it = iter([1, 2, 3])
    p = _proxy(it)
    assert next(p) == 1 and operator.length_hint(p) == 2 and list(p) == [2, 3]
    assert list(reversed(_proxy([1, 2]))) == [2, 1]
    assert operator.length_hint(_proxy(5), 7) == 7


def test_copy_honours_the_objects_copy_and_deepcopy_copies_the_object():
    import copy

    class Special:
        def __init__(self, items):
            self.items = items
            self.copied = False

        def __copy__(self):
            clone = Special(self.items)
            clone.copied = True
            return clone

    obj = Special([[1]])
    shallow, deep = copy.copy(_proxy(obj)), copy.deepcopy(_proxy(obj))
    assert type(shallow) is Special and shallow.copied and shallow.items is obj.items
    assert type(deep) is Special and deep.items == [[1]] and deep.items is not obj.items
    data = [[1]]
    assert copy.copy(_proxy(data)) == data and copy.copy(_proxy(data))[0] is data[0]
    assert copy.deepcopy(_proxy(data))[0] is not data[0]
    # deepcopy's memo is honoured: the proxied object and the object itself
    # inside one structure become one copy.
    both = copy.deepcopy([_proxy(data), data])
    assert both[0] is both[1]


def test_copy_of_an_unbound_proxy_raises_the_unbound_error():
    import copy

    stack: LocalStack[list[int]] = LocalStack()
    p = LocalProxy(stack, unbound_message="no list")
    for fn in (copy.copy, copy.deepcopy):
        with pytest.raises(RuntimeError, match="no list"):
            fn(p)


def test_context_managers_sync_and_async_are_forwarded():
    events = []

    class Both:
        def __enter__(self):
            events.append("enter")
            return "in"

        def __exit__(self, *exc):
            events.append(("exit", exc[0]))
            return True  # swallow

        async def __aenter__(self):
            events.append("aenter")
            return "ain"

        async def __aexit__(self, *exc):
            events.append(("aexit", exc[0]))
            return False

    p = _proxy(Both())
    with p as value:
        events.append(value)
        raise KeyError("swallowed by __exit__")

    async def main():
        async with p as avalue:
            events.append(avalue)

    asyncio.run(main())
    assert events == ["enter", "in", ("exit", KeyError), "aenter", "ain", ("aexit", None)]


def test_await_and_async_iteration_are_forwarded():
    class Ticker:
        def __init__(self):
            self.n = 0

        def __aiter__(self):
            return self

        async def __anext__(self):
            self.n += 1
            if self.n > 3:
                raise StopAsyncIteration
            return self.n

    async def answer():
        return 42

    async def main():
        coro = answer()
        got = await LocalProxy(lambda: coro)
        ticks = [n async for n in _proxy(Ticker())]
        ticker = Ticker()
        first = await anext(_proxy(ticker))
        return got, ticks, first

    assert asyncio.run(main()) == (42, [1, 2, 3], 1)


def test_class_isinstance_and_proxied_classes():
    p = _proxy([1])
    assert p.__class__ is list and isinstance(p, list) and isinstance(p, LocalProxy)
    assert type(p) is LocalProxy
    cls_proxy = _proxy(int)
    assert isinstance(3, cls_proxy) and issubclass(bool, cls_proxy)
    assert not isinstance("x", cls_proxy)
    unbound = LocalProxy(LocalStack())
    assert unbound.__class__ is LocalProxy


def test_attribute_get_set_del_and_call_with_keywords():
    class Obj:
        x = 1

    o = Obj()
    p = _proxy(o)
    p.y = 2
    assert (p.x, p.y, o.y) == (1, 2, 2)
    del p.y
    assert not hasattr(o, "y") and not hasattr(p, "y")
    assert _proxy(dict)(a=1) == {"a": 1}


def test_container_protocol_hash_format_dir_and_comparisons():
    d = {"a": 1}
    p = _proxy(d)
    p["b"] = 2
    del p["a"]
    assert d == {"b": 2} and "b" in p and p["b"] == 2 and len(p) == 1 and list(p) == ["b"]
    assert dir(_proxy(3)) == dir(3) and hash(_proxy("s")) == hash("s")
    assert format(_proxy(3.14159), ".2f") == "3.14" and bytes(_proxy(b"x")) == b"x"
    q = _proxy(5)
    assert (q == 5, q != 5, q < 6, q <= 5, q > 4, q >= 6) == (True, False, True, True, True, False)
    assert bool(_proxy(0)) is False and bool(_proxy([1])) is True


def test_in_place_with_a_proxy_on_the_right_uses_the_real_object():
    # CPython's list += tries the right operand's __radd__ first, and
    # set -= accepts only a real set: the proxy on the right stands aside.
    left, right, s, t_ = [1], [2], {1, 2}, {2}
    p, q, ps, pt = _proxy(left), _proxy(right), _proxy(s), _proxy(t_)
    p += q
    ps -= pt
    assert left == [1, 2] and s == {1} and type(p) is LocalProxy


def test_in_place_refusal_keeps_the_operators_own_errors():
    p = _proxy(1)
    with pytest.raises(ZeroDivisionError):
        p //= 0
    with pytest.raises(TypeError, match="unsupported operand"):
        p += "x"


def test_copying_proxies_of_every_kind_of_local_copies_the_object():
    import copy

    loc, stack = Local(), LocalStack()
    var: contextvars.ContextVar[dict[str, list[int]]] = contextvars.ContextVar("copied")
    holder = type("Holder", (), {})()
    holder.items = [[1]]
    loc.items = [[1]]
    stack.push([[1]])
    token = var.set({"items": [[1]]})
    try:
        proxies = [
            LocalProxy(loc, "items"),
            LocalProxy(stack),
            LocalProxy(var),
            LocalProxy(lambda: holder, "items"),
        ]
        for p in proxies:
            obj = p._get_current_object()
            shallow, deep = copy.copy(p), copy.deepcopy(p)
            assert type(shallow) is type(obj) and shallow == obj and shallow is not obj
            assert type(deep) is type(obj) and deep == obj
            inner = next(iter(obj.values())) if isinstance(obj, dict) else obj[0]
            deep_inner = next(iter(deep.values())) if isinstance(deep, dict) else deep[0]
            assert deep_inner == inner and deep_inner is not inner
    finally:
        var.reset(token)
