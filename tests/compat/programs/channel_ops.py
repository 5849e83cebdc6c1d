"""MemoryChannel basics: set/get/exists/delete/keys/clear and values held by reference.

Channel append/prepend/atomic_add: return values and type errors.
"""

from graflow.channels.memory_channel import MemoryChannel

ch = MemoryChannel("basic")
print("name:", ch.name)
print("get missing:", ch.get("nope"), ch.get("nope", "dflt"))
ch.set("k", 1)
ch.set("none", None)
print("get:", ch.get("k"), "none:", ch.get("none", "dflt"))
print("exists:", ch.exists("k"), ch.exists("none"), ch.exists("zzz"))
print("keys:", sorted(ch.keys()))
print("delete:", ch.delete("k"), ch.delete("k"))
lst = [1]
ch.set("lst", lst)
lst.append(2)
print("by reference:", ch.get("lst"))
ch.clear()
print("after clear:", ch.keys())


ch = MemoryChannel("lists")
print("append new:", ch.append("q", "a"))
print("append:", ch.append("q", "b"))
print("prepend:", ch.prepend("q", "z"))
print("list:", ch.get("q"))
ch.set("scalar", 5)
for op in ("append", "prepend"):
    try:
        getattr(ch, op)("scalar", 1)
    except TypeError as exc:
        print(op, "on scalar:", type(exc).__name__)
print("atomic_add missing:", ch.atomic_add("n"))
print("atomic_add 5:", ch.atomic_add("n", 5))
print("atomic_add -2:", ch.atomic_add("n", -2))
print("atomic_add float:", ch.atomic_add("f", 0.5), ch.atomic_add("f", 0.25))
ch.set("s", "text")
try:
    ch.atomic_add("s", 1)
except TypeError as exc:
    print("atomic_add on str:", type(exc).__name__)
with ch.lock("n"):
    ch.set("n", ch.get("n") * 10)
print("after lock:", ch.get("n"))
