"""Task queues: the FIFO of task ids that the engine executes."""
