"""Behaviour of MemoryChannel: basic ops, TTL, list/counter ops, locks, pickling, fork/merge."""

from __future__ import annotations

import pickle
import threading
import time

import cloudpickle
import pytest

from graflow_core.channels import memory_channel as mc_module
from graflow_core.channels.base import Channel
from graflow_core.channels.memory_channel import MemoryChannel


@pytest.fixture
def ch() -> MemoryChannel:
    return MemoryChannel("test")


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(mc_module.time, "time", fake)  # patching time.time works, as in Graflow
    return fake


def test_is_a_channel_and_ignores_extra_kwargs() -> None:
    ch = MemoryChannel("s1", host="localhost", port=6379, whatever=object())
    assert isinstance(ch, Channel)
    assert ch.name == "s1"
    assert ch.keys() == []


def test_set_get_default_and_overwrite(ch: MemoryChannel) -> None:
    assert ch.get("missing") is None
    assert ch.get("missing", 42) == 42
    ch.set("k", 1)
    assert ch.get("k") == 1
    ch.set("k", "two")
    assert ch.get("k", "default") == "two"
    ch.set("none", None)
    assert ch.exists("none")
    assert ch.get("none", "default") is None


def test_values_held_by_reference(ch: MemoryChannel) -> None:
    value: dict[str, list[int]] = {"a": []}
    ch.set("v", value)
    value["a"].append(1)
    assert ch.get("v") is value
    assert ch.get("v") == {"a": [1]}


def test_delete_exists_keys_clear(ch: MemoryChannel) -> None:
    ch.set("a", 1)
    ch.set("b", 2)
    assert ch.exists("a")
    assert not ch.exists("zzz")
    assert sorted(ch.keys()) == ["a", "b"]
    assert ch.delete("a") is True
    assert ch.delete("a") is False
    assert not ch.exists("a")
    ch.set("c", 3, ttl=100)
    ch.clear()
    assert ch.keys() == []
    assert ch.ttl_data == {}


def test_graflow_attribute_names(ch: MemoryChannel) -> None:
    ch.set("a", 1, ttl=5)
    assert ch.data == {"a": 1}
    assert set(ch.ttl_data) == {"a"}


# -- TTL -------------------------------------------------------------------------------------


def test_ttl_expires_lazily_on_get_and_exists(ch: MemoryChannel, clock: FakeClock) -> None:
    ch.set("t", "v", ttl=10)
    assert ch.get("t") == "v"
    clock.now += 9.9
    assert ch.exists("t")
    clock.now += 0.2
    assert ch.get("t", "gone") == "gone"
    assert not ch.exists("t")
    assert "t" not in ch.data
    assert "t" not in ch.ttl_data


def test_ttl_expiry_on_keys(ch: MemoryChannel, clock: FakeClock) -> None:
    ch.set("short", 1, ttl=1)
    ch.set("long", 2, ttl=100)
    ch.set("forever", 3)
    clock.now += 5
    assert sorted(ch.keys()) == ["forever", "long"]
    assert "short" not in ch.data


def test_exists_after_expiry(ch: MemoryChannel, clock: FakeClock) -> None:
    ch.set("t", 1, ttl=1)
    clock.now += 2
    assert not ch.exists("t")
    assert ch.delete("t") is False


def test_set_without_ttl_clears_previous_expiry(ch: MemoryChannel, clock: FakeClock) -> None:
    ch.set("t", 1, ttl=1)
    ch.set("t", 2)
    clock.now += 10
    assert ch.get("t") == 2


def test_set_with_new_ttl_replaces_expiry(ch: MemoryChannel, clock: FakeClock) -> None:
    ch.set("t", 1, ttl=1)
    ch.set("t", 2, ttl=100)
    clock.now += 10
    assert ch.get("t") == 2


def test_ttl_with_real_time(ch: MemoryChannel) -> None:
    ch.set("t", "v", ttl=0.05)  # type: ignore[arg-type]
    assert ch.get("t") == "v"
    time.sleep(0.1)
    assert ch.get("t") is None
    assert not ch.exists("t")


def test_zero_ttl_survives_until_time_advances(ch: MemoryChannel, clock: FakeClock) -> None:
    ch.set("t", 1, ttl=0)
    assert ch.get("t") == 1  # expiry is strict: now > deadline
    clock.now += 0.001
    assert ch.get("t") is None


def test_delete_removes_expiry(ch: MemoryChannel, clock: FakeClock) -> None:
    ch.set("t", 1, ttl=1)
    assert ch.delete("t") is True
    ch.set("t", 2)
    clock.now += 10
    assert ch.get("t") == 2
    assert ch.ttl_data == {}


# -- list operations ---------------------------------------------------------------------------


def test_append_and_prepend(ch: MemoryChannel) -> None:
    assert ch.append("l", 1) == 1
    assert ch.append("l", 2) == 2
    assert ch.prepend("l", 0) == 3
    assert ch.get("l") == [0, 1, 2]
    assert ch.prepend("p", "x") == 1
    assert ch.get("p") == ["x"]


@pytest.mark.parametrize("method", ["append", "prepend"])
def test_list_ops_reject_non_list(ch: MemoryChannel, method: str) -> None:
    ch.set("s", "not a list")
    with pytest.raises(TypeError, match="Key 's' exists but is not a list"):
        getattr(ch, method)("s", 1)
    assert ch.get("s") == "not a list"


def test_append_ttl_and_expired_list_restarts(ch: MemoryChannel, clock: FakeClock) -> None:
    ch.append("l", 1, ttl=5)
    ch.append("l", 2)  # keeps the existing expiry
    clock.now += 6
    assert ch.get("l") is None
    assert ch.append("l", 3) == 1
    assert ch.get("l") == [3]
    clock.now += 100
    assert ch.get("l") == [3]


def test_prepend_sets_ttl(ch: MemoryChannel, clock: FakeClock) -> None:
    ch.prepend("l", 1, ttl=1)
    clock.now += 2
    assert not ch.exists("l")


def test_concurrent_append(ch: MemoryChannel) -> None:
    def worker(n: int) -> None:
        for i in range(500):
            ch.append("l", (n, i))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ch.get("l")) == 4000


# -- atomic_add ------------------------------------------------------------------------------


def test_atomic_add_basics(ch: MemoryChannel) -> None:
    assert ch.atomic_add("c") == 1
    assert ch.atomic_add("c", 5) == 6
    assert ch.atomic_add("c", -10) == -4
    assert ch.atomic_add("f", 0.5) == 0.5
    assert ch.atomic_add("f", 1) == 1.5
    assert ch.get("c") == -4


def test_atomic_add_rejects_non_numeric(ch: MemoryChannel) -> None:
    ch.set("s", "text")
    with pytest.raises(TypeError, match="Key 's' holds str, expected int or float"):
        ch.atomic_add("s")
    ch.set("l", [1])
    with pytest.raises(TypeError, match="holds list"):
        ch.atomic_add("l", 1)


def test_atomic_add_keeps_ttl_and_restarts_after_expiry(
    ch: MemoryChannel, clock: FakeClock
) -> None:
    ch.set("c", 10, ttl=5)
    assert ch.atomic_add("c", 1) == 11
    clock.now += 6
    assert ch.atomic_add("c", 1) == 1


def test_atomic_add_is_thread_safe(ch: MemoryChannel) -> None:
    n_threads, n_adds = 8, 2000
    barrier = threading.Barrier(n_threads)

    def worker() -> None:
        barrier.wait()
        for _ in range(n_adds):
            ch.atomic_add("counter", 1)

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    old = __import__("sys").getswitchinterval()
    __import__("sys").setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        __import__("sys").setswitchinterval(old)
    assert ch.get("counter") == n_threads * n_adds


# -- locks -----------------------------------------------------------------------------------


def test_lock_is_reentrant_and_protects_compound_update(ch: MemoryChannel) -> None:
    ch.set("v", 0)

    def worker() -> None:
        for _ in range(300):
            with ch.lock("v"):
                current = ch.get("v")
                time.sleep(0)
                ch.set("v", current + 1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ch.get("v") == 1200

    with ch.lock("v"), ch.lock("v", timeout=0.01):
        assert ch.atomic_add("v") == 1201  # atomic_add re-enters the same RLock


def test_lock_timeout_raises(ch: MemoryChannel) -> None:
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with ch.lock("k"):
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(5)
        start = time.perf_counter()
        message = r"Could not acquire lock for key 'k' within 0\.05s"
        with pytest.raises(TimeoutError, match=message), ch.lock("k", timeout=0.05):
            pytest.fail("lock should not be acquired")
        assert time.perf_counter() - start >= 0.04
        # Other keys are independent.
        with ch.lock("other", timeout=0.05):
            pass
    finally:
        release.set()
        t.join()
    with ch.lock("k", timeout=0.5):
        pass


def test_lock_released_on_exception(ch: MemoryChannel) -> None:
    with pytest.raises(RuntimeError), ch.lock("k"):
        raise RuntimeError("boom")

    acquired = []

    def other() -> None:
        with ch.lock("k", timeout=0.5):
            acquired.append(True)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert acquired == [True]


def test_base_channel_lock_is_noop() -> None:
    class Minimal(Channel):
        def set(self, key, value, ttl=None):  # type: ignore[no-untyped-def]
            pass

        def get(self, key, default=None):  # type: ignore[no-untyped-def]
            return default

        def delete(self, key):  # type: ignore[no-untyped-def]
            return False

        def exists(self, key):  # type: ignore[no-untyped-def]
            return False

        def keys(self):  # type: ignore[no-untyped-def]
            return []

        def clear(self):  # type: ignore[no-untyped-def]
            pass

        def append(self, key, value, ttl=None):  # type: ignore[no-untyped-def]
            return 0

        def prepend(self, key, value, ttl=None):  # type: ignore[no-untyped-def]
            return 0

        def atomic_add(self, key, amount=1):  # type: ignore[no-untyped-def]
            return amount

    m = Minimal("m")
    assert m.name == "m"
    with m.lock("x"), m.lock("x", timeout=0):
        pass
    with pytest.raises(TypeError):
        Channel("abstract")  # type: ignore[abstract]


# -- pickling ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dumps,loads", [(pickle.dumps, pickle.loads), (cloudpickle.dumps, pickle.loads)]
)
def test_pickle_round_trip(ch: MemoryChannel, dumps, loads) -> None:  # type: ignore[no-untyped-def]
    ch.set("a", {"x": [1, 2]})
    ch.set("t", 1, ttl=1000)
    ch.atomic_add("c", 3)
    with ch.lock("held"):
        restored = loads(dumps(ch))
    assert isinstance(restored, MemoryChannel)
    assert restored.name == "test"
    assert restored.get("a") == {"x": [1, 2]}
    assert restored.get("c") == 3
    assert set(restored.ttl_data) == {"t"}
    # Locks are fresh: the lock held during pickling is free in the copy.
    with restored.lock("held", timeout=0.1):
        pass
    assert restored.atomic_add("c") == 4
    assert ch.get("c") == 3


def test_pickled_ttl_still_expires(ch: MemoryChannel, clock: FakeClock) -> None:
    ch.set("t", 1, ttl=5)
    restored = pickle.loads(pickle.dumps(ch))
    clock.now += 10
    assert restored.get("t") is None


# -- fork / merge_from -------------------------------------------------------------------------


def test_fork_copies_keys_shallowly(ch: MemoryChannel) -> None:
    shared: list[int] = []
    ch.set("a", 1)
    ch.set("lst", shared)
    branch = ch.fork("test_b")
    assert isinstance(branch, MemoryChannel)
    assert branch.name == "test_b"
    assert branch.get("a") == 1
    assert branch.get("lst") is shared
    branch.set("a", 2)
    branch.set("new", 3)
    assert ch.get("a") == 1
    assert not ch.exists("new")
    ch.set("parent_only", 1)
    assert not branch.exists("parent_only")


def test_fork_copies_expiry(ch: MemoryChannel, clock: FakeClock) -> None:
    ch.set("t", 1, ttl=5)
    branch = ch.fork("b")
    assert branch.get("t") == 1
    branch.set("t", 2)  # clears the branch's expiry only
    clock.now += 10
    assert branch.get("t") == 2
    assert ch.get("t") is None


def test_fork_has_independent_locks(ch: MemoryChannel) -> None:
    branch = ch.fork("b")
    done = threading.Event()

    def hold() -> None:
        with ch.lock("k"):
            done.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    try:
        time.sleep(0.02)
        with branch.lock("k", timeout=0.1):
            pass
    finally:
        done.set()
        t.join()


def test_fork_preserves_subclass() -> None:
    class Sub(MemoryChannel):
        pass

    s = Sub("s")
    s.extra = "kept"  # type: ignore[attr-defined]
    f = s.fork("f")
    assert type(f) is Sub
    assert f.extra == "kept"  # type: ignore[attr-defined]


def test_merge_from_last_writer_wins(ch: MemoryChannel) -> None:
    ch.set("a", 1)
    ch.set("keep", "p")
    b1 = ch.fork("b1")
    b2 = ch.fork("b2")
    b1.set("a", "from b1")
    b1.set("x", 1)
    b2.set("a", "from b2")
    ch.merge_from(b1)
    assert ch.get("a") == "from b1"
    ch.merge_from(b2)
    assert ch.get("a") == "from b2"  # b2 still holds its own "a"
    assert ch.get("x") == 1
    assert ch.get("keep") == "p"


def test_merge_from_keeps_ttl(ch: MemoryChannel, clock: FakeClock) -> None:
    ch.set("was_ttl", 1, ttl=5)
    branch = ch.fork("b")
    branch.set("was_ttl", 2)  # no ttl in the branch now
    branch.set("new_ttl", 3, ttl=5)
    ch.merge_from(branch)
    clock.now += 10
    assert ch.get("was_ttl") == 2
    assert ch.get("new_ttl") is None


def test_merge_from_generic_channel(ch: MemoryChannel) -> None:
    other = MemoryChannel("o")
    other.set("k", "v")

    class Wrapper(Channel):
        """A non-MemoryChannel channel delegating to ``other``."""

        def set(self, key, value, ttl=None):  # type: ignore[no-untyped-def]
            other.set(key, value, ttl)

        def get(self, key, default=None):  # type: ignore[no-untyped-def]
            return other.get(key, default)

        def delete(self, key):  # type: ignore[no-untyped-def]
            return other.delete(key)

        def exists(self, key):  # type: ignore[no-untyped-def]
            return other.exists(key)

        def keys(self):  # type: ignore[no-untyped-def]
            return other.keys()

        def clear(self):  # type: ignore[no-untyped-def]
            other.clear()

        def append(self, key, value, ttl=None):  # type: ignore[no-untyped-def]
            return other.append(key, value, ttl)

        def prepend(self, key, value, ttl=None):  # type: ignore[no-untyped-def]
            return other.prepend(key, value, ttl)

        def atomic_add(self, key, amount=1):  # type: ignore[no-untyped-def]
            return other.atomic_add(key, amount)

    ch.merge_from(Wrapper("w"))
    assert ch.get("k") == "v"


def test_hot_path_is_fast(ch: MemoryChannel) -> None:
    """set/get/exists stay well under a microsecond each (generous bound for slow CI)."""
    n = 20000
    start = time.perf_counter()
    for i in range(n):
        ch.set("k", i)
        ch.get("k")
        ch.exists("k")
    per_op = (time.perf_counter() - start) / (3 * n)
    assert per_op < 5e-6
