"""The relay and its terminals against a real nats-server started by the test."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from feeds.desk.natsd import NatsServer
from feeds.events import FeedState, FeedStatus
from feeds.feed import FeedOptions
from feeds.pipeline import Pipeline
from feeds.sources.relay import codec
from feeds.sources.relay.consumer import NatsFeed
from feeds.sources.relay.link import resolve
from feeds.sources.relay.tasks import cancel_all
from feeds.symbols import RUT
from tests.relay.conftest import OPEN, Terminal, board_of, make_relay, sim, until


async def _run(relay, **kw):
    task = asyncio.create_task(relay.run(**kw))
    await until(lambda: relay.connected.is_set() or task.done(), what="the relay to connect")
    return task


async def _stop(*tasks: asyncio.Task) -> None:
    await cancel_all(tasks)


async def test_two_terminals_equal_the_relay_board(nats_server: NatsServer) -> None:
    a, b = Terminal(nats_server).start(), Terminal(nats_server).start()
    await until(lambda: a.feed.link_up and b.feed.link_up, what="terminals on NATS")
    relay = make_relay(nats_server)
    task = await _run(relay, feed_ms=90_000)  # 90 s of the open, as fast as it goes
    await until(lambda: relay.feed_done.is_set() and relay.idle, what="the relay to finish")
    final = relay.seq
    for t in (a, b):
        await until(lambda t=t: t.caught_up(final), what="the final batch applied")
    want = board_of(relay)
    assert len(want) > 100
    assert a.board() == want
    assert b.board() == want
    assert a.feed.sync.missed_batches == b.feed.sync.missed_batches == 0
    # both links: the relay's address in the label, the upstream's own state and words
    assert a.feed.label == f"sim (seed 3) via 127.0.0.1:{nats_server.port}/t"
    assert any(s.detail == "upstream: simulated market, seed 3" for s in a.statuses)
    # practice alerts: stamped with the relay's feed (sim), kept from live logs and hooks
    assert a.feed.upstream_kind == "sim" and a.pipeline.levels.feed == "sim"
    assert a.pipeline.state.daily.closes.keys() == relay.pipeline.state.daily.closes.keys()
    await _stop(task)
    await a.stop()
    await b.stop()


async def test_late_joiner_gets_the_whole_board_from_the_stream(nats_server: NatsServer) -> None:
    relay = make_relay(nats_server)
    task = await _run(relay, feed_ms=30_000)
    await until(relay.feed_done.is_set, what="the relay's feed to finish")
    await until(lambda: relay._last_snap > 0 and not relay._pending, what="a snapshot round")
    first_round = relay.seq
    await until(lambda: relay.seq > first_round + 2, what="the final snapshot to be stored")
    await _stop(task)  # the relay is gone: only JetStream can tell the terminal the board
    want = board_of(relay)
    late = Terminal(nats_server).start()
    await until(lambda: late.board() == want, what="the stored board")
    assert late.feed.sync.last_seq == 0  # not one live batch was needed
    assert late.pipeline.state.daily.closes[next(iter(relay.pipeline.state.daily.closes))]
    await until(lambda: late.state == "stale", what="the terminal to say the relay is silent")
    assert "stopped publishing" in late.pipeline.status.detail
    await late.stop()


async def test_late_joiner_asks_for_a_round_rather_than_wait_for_the_next(
    nats_server: NatsServer,
) -> None:
    """Joining mid-stream, the stored board is older than the first batch heard: the terminal
    asks for a round (P.sync) and is in step with it; here the periodic round is an hour off."""
    relay = make_relay(nats_server, sim(speed=20), snapshot_s=3600)
    task = await _run(relay, feed_ms=160_000)  # the open at 20x: about 8 s
    await until(lambda: relay.seq > 5, what="the relay streaming")
    late = Terminal(nats_server).start()
    await until(late.feed.synced.is_set, what="the terminal in step without a periodic round")
    assert not relay.feed_done.is_set()  # in step while the stream still ran
    assert late.feed.sync.last_seq > 0 and late.feed.sync.missed_batches == 0
    await until(lambda: relay.feed_done.is_set() and relay.idle, what="the relay to finish")
    await until(lambda: late.caught_up(relay.seq), what="the last batch applied")
    assert late.board() == board_of(relay)
    await _stop(task)
    await late.stop()


async def test_relay_killed_goes_stale_and_recovers_on_restart(nats_server: NatsServer) -> None:
    term = Terminal(nats_server).start()
    relay = make_relay(nats_server, sim(speed=20))
    task = await _run(relay)
    await until(lambda: term.state == "live" and term.feed.sync.last_seq > 3, what="live")
    await _stop(task)
    await until(lambda: term.state == "stale", what="stale after the relay died")
    seen = len(term.statuses)
    second = make_relay(nats_server, sim(speed=20, seed=4))
    task2 = await _run(second)
    await until(
        lambda: (
            term.feed.sync.epoch == second.epoch
            and term.state == "live"
            and term.feed.sync.last_seq > 3
        ),
        what="live again on the new relay",
    )
    after = [s.state for s in term.statuses[seen:]]
    assert FeedState.LIVE in after
    ticks = term.pipeline.state.total_ticks
    await until(lambda: term.pipeline.state.total_ticks > ticks, what="ticks again")
    await _stop(task2)
    await term.stop()


async def test_a_relay_started_over_on_the_sim_resets_the_board(nats_server: NatsServer) -> None:
    """The sim (or a replay) under a restarted relay begins again at the open: its prints are
    older than the board's. The terminal resets and follows them; it used to keep the old run's
    prices, "live" at hundreds of ticks a second, until the new run's clock caught up."""
    term = Terminal(nats_server).start()
    await until(lambda: term.feed.link_up, what="the terminal on NATS")
    first = make_relay(nats_server, sim(seed=3))
    task = await _run(first, feed_ms=60_000)
    await until(lambda: first.feed_done.is_set() and first.idle, what="the first run to end")
    await until(lambda: term.caught_up(first.seq), what="the first run applied")
    await _stop(task)
    old_ticks = term.pipeline.state.total_ticks
    second = make_relay(nats_server, sim(seed=4))
    task2 = await _run(second, feed_ms=20_000)
    await until(lambda: second.feed_done.is_set() and second.idle, what="the second run to end")
    final = second.seq
    await until(
        lambda: term.feed.sync.epoch == second.epoch and term.caught_up(final),
        what="the second run applied",
    )
    want = board_of(second)
    assert len(want) > 100
    assert term.board() == want
    assert any("started over at 09:30" in s.detail for s in term.statuses), [
        s.detail for s in term.statuses
    ]
    assert term.pipeline.state.total_ticks > old_ticks  # counted since the start, not reset
    await _stop(task2)
    await term.stop()


async def test_a_live_relay_restarted_keeps_the_board(nats_server: NatsServer) -> None:
    """A restart whose clock does not go back (a live feed) is no reset: the board stays."""
    term = Terminal(nats_server).start()
    relay = make_relay(nats_server, sim(seed=3))
    task = await _run(relay, feed_ms=20_000)
    await until(lambda: relay.feed_done.is_set() and relay.idle, what="the run to end")
    await until(lambda: term.caught_up(relay.seq), what="the run applied")
    await _stop(task)
    before = term.board()
    later = make_relay(nats_server, sim(seed=3, start_ms=OPEN + 3_600_000))
    task2 = await _run(later)
    await until(lambda: term.feed.sync.epoch == later.epoch, what="the new run heard")
    assert not any("board reset" in s.detail for s in term.statuses)
    assert set(before) <= set(term.board())
    await _stop(task2)
    await term.stop()


async def test_nats_server_restart_both_sides_recover(nats_server: NatsServer) -> None:
    term = Terminal(nats_server).start()
    relay = make_relay(nats_server, sim(speed=20))
    task = await _run(relay)
    await until(lambda: term.state == "live" and term.feed.sync.last_seq > 3, what="live")
    nats_server.kill()
    await until(lambda: term.state == "reconnecting", what="the terminal to see NATS go")
    where = f"127.0.0.1:{nats_server.port}"
    await until(
        lambda: f"cannot connect to {where}: Connection refused" in term.pipeline.status.detail,
        what="the reason, naming the server",
    )
    await until(lambda: term.feed.status().reconnects > 0, what="the attempts counted")
    await until(lambda: not relay.connected.is_set(), what="the relay to see NATS go")
    assert not any(s.state is FeedState.LIVE for s in term.statuses[-1:])
    nats_server.start()
    await until(relay.connected.is_set, what="the relay to reconnect")
    before = term.feed.sync.last_seq
    await until(
        lambda: term.state == "live" and term.feed.sync.last_seq > before + 3,
        what="the terminal live again",
    )
    assert term.feed.sync.epoch == relay.epoch
    assert "NATS" not in term.pipeline.status.detail  # the lost link's last error is over
    await _stop(task)
    await term.stop()


async def test_a_dropped_batch_is_shown_then_resynced(
    nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    term = Terminal(nats_server).start()
    relay = make_relay(nats_server, sim(speed=40))
    publish = relay._publish
    dropped: list[int] = []

    async def lossy(subject: str, data: bytes) -> bool:
        if subject.endswith(".live") and codec.decode_batch(data).seq == 20:
            dropped.append(20)
            return False  # lost on the way, as on a slow consumer or an outage
        return await publish(subject, data)

    monkeypatch.setattr(relay, "_publish", lossy)
    task = await _run(relay)
    await until(lambda: term.feed.sync.gaps == 1, what="the gap to be detected")
    assert term.feed.sync.missed_batches == 1
    assert dropped == [20]

    def shown() -> list[FeedStatus]:
        return [s for s in term.statuses if "missed 1 batch (seq 20)" in s.detail]

    await until(shown, what="the gap on the status line")
    assert shown()[0].state is FeedState.STALE
    await until(
        lambda: any("1 batch missed so far, resynced" in s.detail for s in term.statuses),
        what="live again, resynced, with the loss still on the status line",
    )
    await relay.feed.aclose()  # the market stops: compare the boards at rest
    await until(lambda: relay.feed_done.is_set() and relay.idle, what="the relay to finish")
    await until(lambda: term.caught_up(relay.seq), what="the last batch applied")
    assert term.board() == board_of(relay)
    await _stop(task)
    await term.stop()


async def test_the_terminal_never_sees_upstream_keys(nats_server: NatsServer) -> None:
    import nats

    secret = "SK-upstream-4f9a1c"
    seen: list[bytes] = []
    nc = await nats.connect(nats_server.url)

    async def tap(msg: nats.aio.msg.Msg) -> None:
        seen.append(msg.data)

    await nc.subscribe("t.>", cb=tap)

    feed = sim(speed=20)
    relay = make_relay(nats_server, feed, secrets=[secret])
    relay._on_event(
        FeedStatus(FeedState.RECONNECTING, f"refused key {secret} at wss://x?token={secret}", 1)
    )
    term = Terminal(nats_server).start()
    task = await _run(relay)
    await until(lambda: term.feed.sync.last_seq > 5 and len(seen) > 5, what="traffic")
    assert all(secret.encode() not in m for m in seen)
    assert any(b"refused key ***" in m for m in seen)
    assert all(secret not in s.detail for s in term.statuses)
    await _stop(task)
    await term.stop()
    await nc.close()


async def test_login_from_the_environment_and_a_refused_one(tmp_path: Path) -> None:
    with NatsServer(tmp_path / "auth", extra_args=("--user", "alice", "--pass", "pw-9f3k")) as srv:
        good = Terminal(srv, env={"R2K_NATS_USER": "alice", "R2K_NATS_PASSWORD": "pw-9f3k"})
        relay = make_relay(srv, sim(speed=20))
        relay.link = resolve(
            srv.url, prefix="t", env={}, config={"user": "alice", "password": "pw-9f3k"}
        )
        good.start()
        task = await _run(relay)
        await until(lambda: good.state == "live", what="a terminal logged in")
        bad = Terminal(srv, env={"R2K_NATS_USER": "alice", "R2K_NATS_PASSWORD": "wrong-7x"})
        bad.start()
        await until(lambda: "refused the login" in bad.pipeline.status.detail, what="refusal")
        assert bad.state in ("connecting", "reconnecting")
        assert all("wrong-7x" not in s.detail for s in bad.statuses)
        await _stop(task)
        await good.stop()
        await bad.stop()


async def test_tls_url_refuses_a_plain_server(nats_server: NatsServer) -> None:
    term = Terminal(nats_server)
    term.feed = NatsFeed(nats_server.url.replace("nats://", "tls://") + "/t", FeedOptions())
    term.pipeline = Pipeline(term.feed, status_sinks=[term.statuses.append])
    term.start()
    await until(lambda: term.state == "error", what="the refusal")
    assert "TLS" in term.pipeline.status.detail
    await term.stop()


async def test_joining_a_running_relay_goes_live(nats_server: NatsServer) -> None:
    relay = make_relay(nats_server, sim(speed=20))
    task = await _run(relay)
    await until(lambda: relay.seq > 10, what="the relay under way")
    term = Terminal(nats_server).start()  # its first status batch went out long ago
    await until(lambda: term.state == "live", what="live from the relay's info")
    assert term.pipeline.status.detail == "upstream: simulated market, seed 3"
    await _stop(task)
    await term.stop()


async def test_a_relay_stopped_cleanly_says_relay_stopped_not_connection_refused(
    nats_server: NatsServer,
) -> None:
    """Issue 20 §5: a relay stopped with Ctrl+C (or --duration) tells its terminals so; they say
    "relay stopped", not the silence or the connection error that follows."""
    term = Terminal(nats_server).start()
    relay = make_relay(nats_server, sim(speed=20))
    task = await _run(relay)
    await until(lambda: term.state == "live" and term.feed.sync.last_seq > 3, what="live")
    await _stop(task)
    await until(lambda: term.state == "stale", what="stale after the relay stopped")
    detail = term.pipeline.status.detail
    assert detail.startswith("relay stopped on nats://127.0.0.1:") and "last board" in detail
    assert "refused" not in detail and "no heartbeat" not in detail
    await term.stop()


def _session_figures(st, symbols) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    """(open, high, low) of each symbol on a MarketState: what `--anchor open`, the session
    range, the scoreboard's session bar and the record-high line read."""
    return {s: (st.open[st.ids[s]], st.high[st.ids[s]], st.low[st.ids[s]]) for s in symbols}


def _watched(relay) -> list[str]:  # type: ignore[no-untyped-def]
    st = relay.pipeline.state
    members = [s for s, i in st.ids.items() if s != RUT and st.open[i] is not None]
    return [RUT, *members]


async def test_late_joiner_has_the_sessions_open_high_and_low_from_the_stream(
    nats_server: NatsServer,
) -> None:
    """Joining after 40 s of the session (tryout: ^RUT open 2453.28 where the session opened at
    2446.68): the stored snapshot carries each symbol's session open, high and low, so the
    terminal's equal the relay's though it never saw the ticks that made them."""
    relay = make_relay(nats_server)
    task = await _run(relay, feed_ms=40_000)
    await until(relay.feed_done.is_set, what="the relay's feed to finish")
    await until(lambda: relay._last_snap > 0 and not relay._pending, what="a snapshot round")
    first_round = relay.seq
    await until(lambda: relay.seq > first_round + 2, what="the final snapshot to be stored")
    await _stop(task)
    symbols = _watched(relay)
    assert len(symbols) > 100
    want = _session_figures(relay.pipeline.state, symbols)
    rut_open, rut_high, rut_low = want[RUT]
    assert (
        rut_open is not None and rut_low < rut_high
    )  # the session moved: a last-tick-only snapshot cannot give this
    late = Terminal(nats_server).start()
    await until(lambda: late.board() == board_of(relay), what="the stored board")
    await until(lambda: late.feed.backlog == 0, what="the snapshot applied")
    assert _session_figures(late.pipeline.state, symbols) == want
    await late.stop()


async def test_late_joiner_mid_stream_ends_with_the_relays_open_high_and_low(
    nats_server: NatsServer,
) -> None:
    """Joining while the relay streams: the snapshot's ranges merge with the live ticks heard
    since, and at the end every symbol's open, high and low equal the relay pipeline's."""
    relay = make_relay(nats_server, sim(speed=20))
    task = await _run(relay, feed_ms=100_000)  # about 5 s at 20x
    await until(lambda: relay.seq > 20, what="the relay streaming")
    late = Terminal(nats_server).start()
    await until(lambda: relay.feed_done.is_set() and relay.idle, what="the relay to finish")
    await until(lambda: late.caught_up(relay.seq), what="the last batch applied")
    assert late.feed.sync.last_seq > 0  # it joined while the stream ran
    symbols = _watched(relay)
    assert _session_figures(late.pipeline.state, symbols) == _session_figures(
        relay.pipeline.state, symbols
    )
    await _stop(task)
    await late.stop()
