"""StreamStatus: a websocket feed's connections told as one status, from plain states."""

from __future__ import annotations

from feeds.events import Event, FeedState, FeedStatus
from feeds.feed import FeedOptions
from feeds.sources.providers.streamstatus import StreamStatus


def make(connections: int = 1) -> tuple[StreamStatus, list[FeedStatus]]:
    sent: list[FeedStatus] = []

    def put(batch: list[Event]) -> None:
        (status,) = batch
        assert isinstance(status, FeedStatus)
        sent.append(status)

    status = StreamStatus("toy", put, FeedOptions(stale_after=15))
    status.start(connections)
    return status, sent


def test_a_status_is_sent_only_when_it_changes() -> None:
    status, sent = make()
    status.report(0, 0)
    status.report(0, 0)  # the monitor reports every second: nothing new
    assert [(s.state, s.detail) for s in sent] == [(FeedState.CONNECTING, "connecting to toy")]
    status.report(2, 0)  # the malformed count moved
    status.retry_at[0] = 1_700_000_000_000
    status.report(2, 1)
    assert [(s.malformed, s.reconnects, s.retry_at) for s in sent[1:]] == [
        (2, 0, 0),
        (2, 1, 1_700_000_000_000),
    ]


def test_several_connections_show_the_reconnecting_one_and_how_many_are_up() -> None:
    status, _ = make(3)
    for n in range(3):
        status.connection(n, FeedState.LIVE, "streaming")
    assert status.current() == (FeedState.LIVE, "toy streaming on 3 connections")
    status.connection(1, FeedState.CONNECTING, "connecting to b:443")
    status.connection(2, FeedState.RECONNECTING, "cannot connect to c:443: refused")
    assert status.current() == (
        FeedState.RECONNECTING,
        "cannot connect to c:443: refused (1/3 connections up)",
    )
    assert not status.all_live()


def test_fatal_wins_and_hides_the_note() -> None:
    status, _ = make()
    status.connection(0, FeedState.LIVE, "streaming")
    assert status.current("previous closes 1/3") == (
        FeedState.LIVE,
        "toy streaming; previous closes 1/3",
    )
    status.fatal = "toy refused the key: check R2K_TOY_KEY"
    assert status.current("previous closes 1/3") == (FeedState.ERROR, status.fatal)


def test_garbled_and_stale_make_live_connections_stale() -> None:
    status, _ = make()
    status.connection(0, FeedState.LIVE, "streaming")
    status.hosts[0] = "127.0.0.1:9"
    status.stale = True
    assert status.current() == (
        FeedState.STALE,
        "no ticks for over 15 s while the market is open",
    )
    status.garbled, status.garbled_run = True, 20
    state, detail = status.current()  # garbled says more than stale: it names the host
    assert state is FeedState.STALE
    assert detail.startswith("nothing readable from 127.0.0.1:9: every frame is malformed")
    status.any_good = True
    assert status.current()[1].startswith("the last 20+ frames from 127.0.0.1:9 were malformed")
    assert "check that R2K_TOY_URL points at a toy server" in status.current()[1]
