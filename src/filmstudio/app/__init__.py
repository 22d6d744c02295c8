"""The composition root: configuration in, a wired studio out (engines, store, queue, server, workers)."""
