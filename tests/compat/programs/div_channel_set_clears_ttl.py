"""set() without a TTL on a key that had one: does the old TTL still expire it?"""

import time

from graflow.channels.memory_channel import MemoryChannel

ch = MemoryChannel("ttl_reset")
ch.set("k", "with-ttl", ttl=0.1)
ch.set("k", "no-ttl")
time.sleep(0.25)
print("after old ttl:", ch.get("k", "expired"))
