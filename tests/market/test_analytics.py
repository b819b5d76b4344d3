"""Analytics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from feeds.market import analytics as an


def test_return_spread_and_ratio():
    r_rut = an.ret(2474.5, 2450.0)  # +1.0 %
    r_spx = an.ret(6633.0, 6700.0)  # -1.0 %
    assert r_rut == pytest.approx(0.01)
    assert r_spx == pytest.approx(-0.01)
    assert an.spread_bp(r_rut, r_spx) == pytest.approx(200.0)
    # 100 * 1.01 / 0.99
    assert an.ratio_rebased(2474.5, 2450.0, 6633.0, 6700.0) == pytest.approx(102.0202020)


def test_unknowns_propagate_as_none():
    assert an.ret(None, 10.0) is None
    assert an.ret(10.0, None) is None
    assert an.ret(10.0, 0.0) is None
    assert an.spread_bp(0.01, None) is None
    assert an.ratio_rebased(1.0, 1.0, None, 1.0) is None


def test_vectorised_returns_mark_unknowns_nan():
    r = an.returns(np.array([11.0, np.nan, 5.0]), np.array([10.0, 3.0, 0.0]))
    assert r[0] == pytest.approx(0.1)
    assert math.isnan(r[1]) and math.isnan(r[2])


def test_contributions_sum_to_index_return_for_a_full_universe():
    weights = np.array([0.5, 0.3, 0.2])
    rets = np.array([0.02, -0.01, 0.005])
    c = an.contributions_bp(weights, rets)
    # 0.5*200 = 100, 0.3*-100 = -30, 0.2*50 = 10
    assert c.tolist() == pytest.approx([100.0, -30.0, 10.0])
    assert c.sum() == pytest.approx(80.0)


def test_anchor_weight_conversion_matches_the_architecture_formula():
    # anchor earlier than the as-of date: w_anchor = w_asof * (1 + R) / (1 + r_asof)
    w_asof = np.array([0.02, 0.01])
    r_asof = np.array([0.10, -0.05])  # stock returns anchor -> as-of
    big_r = 0.04  # index return anchor -> as-of
    growth = 1 / (1 + r_asof)  # P(anchor) / P(as-of)
    w = an.anchor_weights(w_asof, growth, 1 / (1 + big_r))
    assert w.tolist() == pytest.approx([0.02 * 1.04 / 1.10, 0.01 * 1.04 / 0.95])


def test_anchor_weight_conversion_keeps_as_of_weight_when_unknown():
    w = an.anchor_weights(np.array([0.02, 0.01]), np.array([np.nan, 1.1]), 1.0)
    assert w.tolist() == pytest.approx([0.02, 0.011])
    assert an.anchor_weights(np.array([0.02]), np.array([1.2]), None).tolist() == [0.02]


def test_breadth_counts_and_share_up():
    b = an.breadth(np.array([0.01, -0.02, 0.0, 0.03, np.nan]))
    assert (b.advancers, b.decliners, b.unchanged) == (2, 1, 1)
    assert b.pct_up == pytest.approx(0.5)
    assert an.breadth(np.array([np.nan])).pct_up is None


def test_rank_by_each_key():
    symbols = ["BBB", "AAA", "CCC", "DDD"]
    contribution = np.array([5.0, -12.0, 8.0, np.nan])
    rets = np.array([0.01, -0.03, 0.02, np.nan])
    weights = np.array([0.005, 0.004, 0.004, 0.009])
    kw = {"contribution": contribution, "rets": rets, "weights": weights, "symbols": symbols}
    assert an.rank("contribution", **kw).tolist() == [2, 0, 1, 3]  # 8 > 5 > -12, NaN last
    # reversed: the biggest detractor first (signed, not by size), NaN still last
    assert an.rank("contribution", descending=False, **kw).tolist() == [1, 0, 2, 3]
    assert an.rank("return", **kw).tolist() == [2, 0, 1, 3]
    assert an.rank("return", descending=False, **kw).tolist() == [1, 0, 2, 3]
    assert an.rank("weight", **kw).tolist() == [3, 0, 1, 2]
    assert an.rank("symbol", descending=False, **kw).tolist() == [1, 0, 2, 3]
    assert an.rank("symbol", **kw).tolist() == [3, 2, 0, 1]  # Z-A
    # non-members rank after every member, whatever the key and direction
    member = np.array([True, True, False, True])
    assert an.rank("contribution", member=member, **kw).tolist() == [0, 1, 3, 2]
    assert an.rank("contribution", descending=False, member=member, **kw).tolist() == [1, 0, 3, 2]
    assert an.rank("symbol", descending=False, member=member, **kw).tolist() == [1, 0, 3, 2]
    with pytest.raises(ValueError):
        an.rank("volume", **kw)


def test_streak_counts_consecutive_small_cap_wins():
    rut = [
        ("2025-11-14", 100.0),
        ("2025-11-17", 99.0),
        ("2025-11-18", 100.0),
        ("2025-11-19", 102.0),
    ]
    spx = [
        ("2025-11-14", 100.0),
        ("2025-11-17", 100.0),
        ("2025-11-18", 100.5),
        ("2025-11-19", 101.0),
    ]
    # day returns: 11-17 rut -1% vs 0% (large), 11-18 +1.01% vs +0.5% (small),
    # 11-19 +2% vs +0.5% (small)
    assert an.streak(rut, spx) == (2, "small")
    assert an.streak(spx, rut) == (2, "large")
    assert an.streak([], spx) == (0, "")
