"""One upstream for a desk: ``r2k relay`` publishes a feed's events to NATS; ``nats://`` consumes.

* :mod:`feeds.relay.codec`: the wire format (any event in :data:`feeds.events.Event`, ticks fast).
* :mod:`feeds.relay.link`: where the NATS server is and how to log in (never printed).
* :mod:`feeds.relay.subjects`: subject and JetStream stream names under a prefix.
* :mod:`feeds.relay.publisher`: the relay (feed -> batches, heartbeats, last-value snapshot).
* :mod:`feeds.relay.consumer`: the ``nats://`` feed a terminal reads.
* :mod:`feeds.relay.server`: finding and running a ``nats-server`` (``--embedded``, tests).

Nothing here imports ``nats`` at module level except the publisher and consumer, so the config
and the command line stay light.
"""
