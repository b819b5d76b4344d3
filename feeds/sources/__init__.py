"""Sources of events: the simulated market, the live providers and the relay's ``nats://``
consumer. Each registers its feed name with :mod:`feeds.feed`."""
