"""The market: where a tick is applied (:mod:`.state`), the last-sale rules and condition codes
that decide whether it moves the last sale, the NYSE calendar, the analytics and the scoreboard
computed from the state once a frame."""
