"""One upstream for a desk: ``r2k relay`` publishes a feed's events to NATS; ``nats://`` consumes.

* :mod:`feeds.sources.relay.codec`: the wire format (any event in :data:`feeds.events.Event`, ticks
fast).
* :mod:`feeds.sources.relay.link`: where the NATS server is and how to log in (never printed).
* :mod:`feeds.sources.relay.subjects`: subject and JetStream stream names under a prefix.
* :mod:`feeds.desk.publisher`: the relay (feed -> batches, heartbeats, last-value snapshot).
* :mod:`feeds.sources.relay.consumer`: the ``nats://`` feed a terminal reads.
* :mod:`feeds.desk.natsd`: finding and running a ``nats-server`` (``--embedded``, tests).

Nothing here imports ``nats`` at module level except the publisher and consumer, so the config
and the command line stay light.
"""
