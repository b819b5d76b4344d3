"""A relay terminal's sequence bookkeeping on its own (issue 17): epochs, batch numbers, feed
times and decoded events in; what to apply, drop, fetch or reset out. No NATS, no event loop."""

from __future__ import annotations

from feeds.events import DailyCloses, FeedState, FeedStatus, SessionRange, Tick
from feeds.market.state import MarketState
from feeds.sources.relay.codec import Chunk
from feeds.sources.relay.sync import REWIND_MS, RelaySync, Step

T0 = 1_762_353_000_000  # epoch ms


def joined(epoch: str = "ep1", seq: int = 10) -> RelaySync:
    """A terminal that joined run ``epoch`` at batch ``seq`` and resynced from a one-shard
    snapshot exact as of the batch before."""
    s = RelaySync()
    s.begin("syncing the board from the relay")
    assert s.on_batch(epoch, seq, T0) == Step()  # the first run heard: no fetch, no reset
    assert s.need == seq - 1 and s.reason is not None
    s.on_chunk(Chunk(epoch, seq - 1, 0, 1, [], []))
    assert s.check(1) and s.reason is None
    return s


def test_joining_is_in_step_once_every_shard_is_exact_as_of_the_batch_before_the_first() -> None:
    s = RelaySync()
    s.begin("syncing the board from the relay")
    assert s.state is FeedState.CONNECTING and s.resyncs == 1
    s.on_batch("ep1", 10, T0)
    s.on_chunk(Chunk("ep1", 8, 0, 2, [], []))
    s.on_chunk(Chunk("ep1", 9, 1, 2, [], []))
    assert not s.check(2)  # shard 0 is a batch behind
    s.on_chunk(Chunk("ep1", 9, 0, 2, [], []))
    assert s.check(2) and not s.check(2)  # once


def test_in_order_batches_apply_duplicates_drop() -> None:
    s = joined()
    assert s.on_batch("ep1", 11, T0 + 1) == Step() and s.last_seq == 11
    assert s.on_batch("ep1", 11, T0 + 1) is None
    assert s.on_batch("ep1", 5, T0 + 1) is None
    assert s.missed_batches == 0 and s.reason is None


def test_a_skipped_batch_is_counted_shown_and_resynced() -> None:
    s = joined()
    assert s.on_batch("ep1", 14, T0 + 4) == Step(fetch=True)
    assert (s.missed_batches, s.gaps, s.last_seq, s.need) == (3, 1, 14, 13)
    assert s.state is FeedState.STALE
    assert s.reason == "missed 3 batches (seq 11-13); resyncing the board"
    s.on_batch("ep1", 16, T0 + 6)
    assert s.reason == "missed 1 batch (seq 15); resyncing the board" and s.missed_batches == 4


def test_a_relay_restarted_resyncs_and_one_whose_feed_started_over_resets_the_board() -> None:
    s = joined()
    s.take(10, [Tick("IWM", 200.0, T0)])
    step = s.on_batch("ep2", 3, T0 - 60_000)  # the sim started again: its clock went back
    assert step is not None and step.fetch and "board reset" in step.reset
    assert s.epoch == "ep2" and s.last_seq == 3 and s.sym_seq == {} and s.need == 2
    assert s.reason == step.reset and s.state is FeedState.STALE
    late = joined()
    step = late.on_batch("ep2", 3, T0 - REWIND_MS + 1)  # a live feed's clock (skew): no reset
    assert step == Step(fetch=True) and late.reason == "relay restarted; syncing its board"


def test_a_batch_marks_its_ticks_and_history_and_hands_over_the_upstreams_status() -> None:
    s = joined()
    up = FeedStatus(FeedState.LIVE, "sim")
    hist = DailyCloses("IWM", [("2025-11-04", 199.0)])
    out, status = s.take(11, [Tick("IWM", 200.0, T0), up, hist])
    assert out == [Tick("IWM", 200.0, T0), hist] and status is up
    assert s.sym_seq == {"IWM": 11} and s.hist_seq == {("DailyCloses", "IWM"): 11}
    assert s.upstream_seq == 11


def test_a_snapshot_never_rolls_a_symbol_back_and_another_runs_is_ignored() -> None:
    s = joined()
    s.take(12, [Tick("IWM", 201.0, T0 + 2)])
    old, new = Tick("IWM", 200.0, T0), Tick("SPY", 600.0, T0 + 1)
    assert s.on_chunk(Chunk("ep1", 12, 0, 1, [old, new], [11, 12])) == [new]
    assert s.sym_seq == {"IWM": 12, "SPY": 12} and s.shard_seq == {0: 12}
    assert s.on_chunk(Chunk("other", 99, 0, 1, [old], [99])) is None
    hist = DailyCloses("IWM", [])
    assert s.on_hist("ep1", [(3, hist)]) == [hist] and s.on_hist("ep1", [(2, hist)]) == []
    assert s.on_hist("other", [(9, hist)]) == []


def test_the_first_stored_message_names_the_run_followed() -> None:
    s = RelaySync()
    assert s.ours("ep1") and s.epoch == "ep1" and not s.ours("ep0")


def test_a_snapshots_session_ranges_follow_its_ticks_and_apply_even_when_the_tick_is_older() -> (
    None
):
    s = joined()
    s.take(12, [Tick("IWM", 201.0, T0 + 2)])
    old, new = Tick("IWM", 200.0, T0), Tick("SPY", 600.0, T0 + 1)
    ranges = [SessionRange("IWM", T0, 199.0, 202.0, 198.0), SessionRange("SPY", T0 + 1, 1, 2, 0)]
    out = s.on_chunk(Chunk("ep1", 12, 0, 1, [old, new], [11, 12], ranges))
    assert out == [new, *ranges]  # IWM's tick is older than what was applied; its range is not


def test_a_session_range_sets_the_open_widens_the_range_and_skips_an_earlier_session() -> None:
    st = MarketState(["^RUT"])
    st.apply(Tick("^RUT", 2453.28, T0 + 40_000))  # the first tick a late joiner hears
    st.apply_range(SessionRange("^RUT", T0 + 40_000, 2446.68, 2453.0, 2446.68))
    i = st.ids["^RUT"]
    # the open is the relay's; the high stays this board's later print, the low widens
    assert (st.open[i], st.high[i], st.low[i]) == (2446.68, 2453.28, 2446.68)
    st.apply_range(SessionRange("^RUT", st.session_start_ms - 1, 1.0, 9999.0, 0.5))  # yesterday
    st.apply_range(SessionRange("UNKNOWN", T0 + 40_000, 1.0, 2.0, 0.5))
    st.apply_range(SessionRange("^RUT", T0 + 40_000, None, None, None))
    assert (st.open[i], st.high[i], st.low[i]) == (2446.68, 2453.28, 2446.68)
