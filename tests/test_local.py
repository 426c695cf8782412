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
