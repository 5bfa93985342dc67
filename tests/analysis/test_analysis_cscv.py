"""§2: PBO by CSCV, by hand on 4 combos and S = 4, and against a split-by-split loop."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from research.analysis import cscv as cscv_module
from research.analysis.cscv import cscv, split_masks

# Four combos (columns A, B, C, D) on four dates; S = 4 blocks of one date each; metric
# net $. The six in-sample choices J, in itertools.combinations order, by hand:
#   J      IS sums A B C D    n*  OOS sums A B C D   n*'s OOS rank (ties averaged)   λ
#   {1,2}   5 -1  1  0        A   -5  3  1  0        1                             ln(1/4)
#   {1,3}   1  1  0  2        D   -1  1  2 -2        1                             ln(1/4)
#   {1,4}   0  0  1  0        C    0  2  1  0        3 (A, D share 1.5)            ln(3/2)
#   {2,3}   0  2  1  0        B    0  0  1  0        2 (A, B, D share 2)           ln(2/3)
#   {2,4}  -1  1  2 -2        C    1  1  0  2        1                             ln(1/4)
#   {3,4}  -5  3  1  0        B    5 -1  1  0        1                             ln(1/4)
# ω = rank / (N + 1) = rank / 5. λ <= 0 in 5 splits of 6: PBO = 5/6. OOS losses (n*'s OOS
# sum < 0): -5, -2, -1 in 3 splits: 1/2. Degradation, OOS on IS of n*: x = 5 2 1 2 2 3,
# y = -5 -2 1 0 0 -1: slope = -13.5 / 9.5 = -27/19, intercept = -7/6 + 27/19 · 5/2 = 136/57.
HAND = np.array([[3, -1, 0, 1],
                 [2, 0, 1, -1],
                 [-2, 2, 0, 1],
                 [-3, 1, 1, -1]]) * 100  # cents


def test_pbo_of_four_combos_by_hand():
    result = cscv(HAND, blocks=4, metric="net_usd")
    assert result.splits == 6 and result.block_dates == 1 and result.dropped_dates == 0
    assert result.pbo == pytest.approx(5 / 6)
    assert result.prob_oos_loss == pytest.approx(1 / 2)
    np.testing.assert_allclose(result.logits, np.log([1 / 4, 1 / 4, 3 / 2, 2 / 3, 1 / 4, 1 / 4]))
    np.testing.assert_array_equal(result.is_metric, [5, 2, 1, 2, 2, 3])
    np.testing.assert_array_equal(result.oos_metric, [-5, -2, 1, 0, 0, -1])
    assert result.degradation_slope == pytest.approx(-27 / 19)
    assert result.degradation_intercept == pytest.approx(136 / 57)


def test_the_splits_are_every_half_of_the_blocks():
    masks = split_masks(16)
    assert masks.shape == (12_870, 16) == (math.comb(16, 8), 16)
    assert (masks.sum(axis=1) == 8).all()
    assert len({row.tobytes() for row in masks}) == 12_870
    assert masks[0].tolist() == [1] * 8 + [0] * 8


def test_the_earliest_dates_beyond_a_multiple_of_s_are_dropped():
    cents = np.vstack([np.full((3, 4), 10**6), HAND])  # 3 huge early rows, then HAND
    result = cscv(cents, blocks=4, metric="net_usd")
    assert result.dropped_dates == 3
    assert result.pbo == pytest.approx(5 / 6)


def sharpe(values: np.ndarray) -> np.ndarray:
    sd = values.std(axis=0, ddof=1)
    return np.where(sd > 0, values.mean(axis=0) / np.where(sd > 0, sd, 1), 0.0)


def test_sharpe_splits_match_a_loop_over_splits():
    """The vectorised statistic equals numpy's mean / std on each half, split by split."""
    rng = np.random.default_rng(5)
    cents = rng.integers(-20_000, 20_000, size=(64, 9)) * (rng.random((64, 9)) < 0.6)
    result = cscv(cents, blocks=8, metric="sharpe")
    blocks = cents.reshape(8, 8, 9)
    for k, chosen in enumerate(itertools.combinations(range(8), 4)):
        others = [b for b in range(8) if b not in chosen]
        is_sharpe = sharpe(blocks[list(chosen)].reshape(-1, 9))
        oos_sharpe = sharpe(blocks[others].reshape(-1, 9))
        winner = int(np.argmax(is_sharpe))
        assert result.is_metric[k] == pytest.approx(is_sharpe[winner], rel=1e-12)
        assert result.oos_metric[k] == pytest.approx(oos_sharpe[winner], rel=1e-12)
        rank = (oos_sharpe < oos_sharpe[winner]).sum() + 1  # no ties in this data
        assert result.logits[k] == pytest.approx(math.log(rank / (10 - rank)))


def test_chunking_over_splits_does_not_change_anything(monkeypatch):
    rng = np.random.default_rng(6)
    cents = rng.integers(-5_000, 5_000, size=(100, 30))
    whole = cscv(cents, blocks=10, metric="sharpe")
    monkeypatch.setattr(cscv_module, "CHUNK_BYTES", 1)
    monkeypatch.setattr(cscv_module, "MIN_CHUNK_SPLITS", 1)  # one split per chunk
    chunked = cscv(cents, blocks=10, metric="sharpe")
    np.testing.assert_array_equal(whole.logits, chunked.logits)
    assert (whole.pbo, whole.degradation_slope) == (chunked.pbo, chunked.degradation_slope)


def test_fewer_dates_than_blocks_is_skipped_with_a_reason():
    result = cscv(HAND, blocks=6, metric="sharpe")
    assert result.pbo is None and result.splits == 0
    assert result.skipped == "the data have 4 trading dates, fewer than the 6 blocks"
