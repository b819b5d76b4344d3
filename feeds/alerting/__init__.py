"""Alerting: where an alert is decided (the level engines of :mod:`.levels`), typed levels and
their store, the durable alert log (:mod:`.alerts`) and how an alert reads where it is
delivered (:mod:`.delivery`)."""
