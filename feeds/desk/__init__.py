"""The desk's side of the relay: the publisher that runs one pipeline's feed onto NATS for a
desk, and the ``nats-server`` process it may run (``--embedded``, tests)."""
