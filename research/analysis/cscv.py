"""Probability of backtest overfitting by combinatorially symmetric cross-validation.

docs/robustness.md §2; Bailey, Borwein, López de Prado & Zhu, "The Probability of Backtest
Overfitting", Journal of Computational Finance (2017). The T mod S earliest dates are
dropped, the rest cut into S equal blocks, and every choice of S/2 blocks is an in-sample
set J (its complement the out-of-sample set). Each split's in-sample winner n* gets its
out-of-sample relative rank ω = rank / (N + 1) (rank 1 the worst; ties share their average
rank) and the logit λ = ln(ω / (1 − ω)); PBO is the share of splits with λ <= 0.

Vectorised over splits: per-block moments are summed once, and a chunk of splits at a
time becomes one exact matrix product (splits x blocks) @ (blocks x combos), so memory
stays bounded whatever the number of combos: near CHUNK_BYTES, or MIN_CHUNK_SPLITS
splits' arrays (about 770 bytes a combo) for very many combos.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from research.analysis.stats import _FLOAT_EXACT, METRICS

# Working memory of one chunk of splits: cache-sized, which measured 4x faster here than
# 100 MiB chunks for 980 combos (the arrays are read a few times each). At least
# MIN_CHUNK_SPLITS splits, so that many combos do not re-read the block sums once a split
# (2x slower at 100,000 combos, where a chunk is then about 77 MB).
CHUNK_BYTES = 4 * 2**20
MIN_CHUNK_SPLITS = 8
_ARRAYS_PER_CHUNK = 12  # (splits x combos) arrays alive at once in _score_chunk, with temps


@dataclass(frozen=True, slots=True, kw_only=True)
class Cscv:
    """§2's figures; the per-split arrays are kept for plots (logits, degradation)."""

    blocks: int
    splits: int
    block_dates: int
    dropped_dates: int
    pbo: float | None
    prob_oos_loss: float | None
    degradation_slope: float | None  # least squares of OOS on IS metric of n*, over splits
    degradation_intercept: float | None
    skipped: str | None
    logits: np.ndarray = field(repr=False, compare=False)
    is_metric: np.ndarray = field(repr=False, compare=False)  # n*'s in-sample metric
    oos_metric: np.ndarray = field(repr=False, compare=False)  # and out of sample

    def to_dict(self) -> dict[str, Any]:
        """The ``cscv`` section of robustness.json (logits included, in split order)."""
        return {"blocks": self.blocks, "splits": self.splits, "block_dates": self.block_dates,
                "dropped_dates": self.dropped_dates, "pbo": self.pbo,
                "prob_oos_loss": self.prob_oos_loss,
                "degradation_slope": self.degradation_slope,
                "degradation_intercept": self.degradation_intercept, "skipped": self.skipped,
                "logits": self.logits.tolist()}


def split_masks(blocks: int) -> np.ndarray:
    """Every in-sample choice of blocks/2 of `blocks` blocks, as 0/1 rows, in the order of
    ``itertools.combinations``.

    >>> split_masks(4).tolist()[:2]
    [[1, 1, 0, 0], [1, 0, 1, 0]]
    """
    chosen = np.array(list(itertools.combinations(range(blocks), blocks // 2)))
    masks = np.zeros((len(chosen), blocks), dtype=np.int64)
    np.put_along_axis(masks, chosen, 1, axis=1)
    return masks


def cscv(cents: np.ndarray, *, blocks: int, metric: str) -> Cscv:
    """CSCV on a (dates x combos) int64 matrix of daily cents; skipped when there are fewer
    dates than blocks.

    >>> cents = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])   # a earns early, b late
    >>> result = cscv(cents, blocks=2, metric="net_usd")
    >>> result.splits, result.pbo                   # each split's winner is last out of sample
    (2, 1.0)
    """
    n_dates, n_combos = cents.shape
    block_dates, dropped = divmod(n_dates, blocks)
    if block_dates == 0:
        return _skipped(blocks, dropped, f"the data have {n_dates} trading dates, fewer "
                        f"than the {blocks} blocks")
    sums = _block_sums(cents[dropped:], blocks)
    masks = split_masks(blocks).astype(sums.total.dtype)
    chunk = max(MIN_CHUNK_SPLITS, CHUNK_BYTES // (_ARRAYS_PER_CHUNK * 8 * n_combos))
    parts = [_score_chunk(masks[start:start + chunk], sums, block_dates * blocks // 2,
                          METRICS[metric])
             for start in range(0, len(masks), chunk)]
    logits, is_metric, oos_metric = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    slope, intercept = _least_squares(is_metric, oos_metric)
    return Cscv(blocks=blocks, splits=len(masks), block_dates=block_dates,
                dropped_dates=dropped, pbo=float(np.mean(logits <= 0)),
                prob_oos_loss=float(np.mean(oos_metric < 0)), degradation_slope=slope,
                degradation_intercept=intercept, skipped=None, logits=logits,
                is_metric=is_metric, oos_metric=oos_metric)


@dataclass(frozen=True, slots=True)
class _BlockSums:
    """Per block and combo Σx and Σx² of cents, and their sums over all blocks."""

    total: np.ndarray  # (blocks x combos)
    total_sq: np.ndarray
    grand_total: np.ndarray  # (combos,)
    grand_total_sq: np.ndarray


def _block_sums(cents: np.ndarray, blocks: int) -> _BlockSums:
    """Exact sums, as float64 when every split's sums stay below 2**53 (then the split
    products run in BLAS and are still exact integers), else as int64 (as exact, slower)."""
    kept = cents.reshape(blocks, len(cents) // blocks, cents.shape[1])
    total, total_sq = kept.sum(axis=1), np.einsum("bdc,bdc->bc", kept, kept)
    grand_sq = total_sq.sum(axis=0)  # bounds every split's Σx² and, squared, its |Σx|
    if grand_sq.size and int(grand_sq.max()) >= _FLOAT_EXACT:
        return _BlockSums(total, total_sq, total.sum(axis=0), grand_sq)
    as_float = [a.astype(np.float64) for a in (total, total_sq, total.sum(axis=0), grand_sq)]
    return _BlockSums(*as_float)


def _score_chunk(masks: np.ndarray, sums: _BlockSums, half_dates: int,
                 score: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each split of the chunk: the in-sample winner's logit and its IS / OOS metric."""
    is_total, is_total_sq = masks @ sums.total, masks @ sums.total_sq
    in_sample = score(half_dates, is_total, is_total_sq)
    out_sample = score(half_dates, sums.grand_total - is_total,
                       sums.grand_total_sq - is_total_sq)
    rows = np.arange(len(masks))
    winner = np.argmax(in_sample, axis=1)  # ties: the lowest index, as in walk-forward
    winner_oos = out_sample[rows, winner]
    below = np.count_nonzero(out_sample < winner_oos[:, None], axis=1)
    equal = np.count_nonzero(out_sample == winner_oos[:, None], axis=1)  # n* included
    omega = (below + (equal + 1) / 2) / (sums.total.shape[1] + 1)  # average rank / (N+1)
    return np.log(omega / (1 - omega)), in_sample[rows, winner], winner_oos


def _least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    """Slope and intercept of y on x; None when x does not vary."""
    spread = x - x.mean()
    denominator = float(spread @ spread)
    if denominator == 0 or not math.isfinite(denominator):
        return None, None
    slope = float(spread @ (y - y.mean())) / denominator
    return slope, float(y.mean() - slope * x.mean())


def _skipped(blocks: int, dropped: int, reason: str) -> Cscv:
    empty = np.empty(0)
    return Cscv(blocks=blocks, splits=0, block_dates=0, dropped_dates=dropped, pbo=None,
                prob_oos_loss=None, degradation_slope=None, degradation_intercept=None,
                skipped=reason, logits=empty, is_metric=empty, oos_metric=empty)
