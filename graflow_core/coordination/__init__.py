"""How the members of a parallel group are run (threads, or one after another)."""
