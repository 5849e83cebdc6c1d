"""Channel TTLs expire lazily on get/exists/keys (tiny real TTLs)."""

import time

from graflow.channels.memory_channel import MemoryChannel

ch = MemoryChannel("ttl")
ch.set("short", "s", ttl=0.1)
ch.set("long", "l", ttl=60)
ch.set("forever", "f")
print("t=0:", sorted(ch.keys()), ch.get("short"))
time.sleep(0.25)
print("t=0.25:", sorted(ch.keys()), ch.get("short", "gone"), ch.exists("short"))
print("long still:", ch.get("long"))
ch.append("lst", 1, ttl=0.1)
print("list:", ch.get("lst"))
time.sleep(0.25)
print("list later:", ch.get("lst", "expired"))
print("atomic_add after expiry:", ch.atomic_add("short", 2))
