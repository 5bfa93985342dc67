"""A sweep with data.resolve_with: 1-second bars decide the trades the minute bars cannot,
the manifest says so, and the minute-only band stays beside the decided result."""

from __future__ import annotations

import pytest

from research.engine.synthetic_seconds import synthetic_second_bars
from research.errors import SpecError
from research.research_runner import ResearchRunner
from research.spec.grid import spec_from_dict


def walk_spec(folder, resolve_with=None):
    data = {"path": "es_1m.parquet"}
    if resolve_with is not None:
        data["resolve_with"] = resolve_with
    return spec_from_dict({"name": "walk" if resolve_with is None else "walk_1s",
                           "data": data, "base": {"instrument": "ES"},
                           "grid": {"target": [2, 5], "t1_fraction": [0.5, 1.0]}},
                          base_dir=folder)


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    folder = tmp_path_factory.mktemp("walk")
    minutes, seconds = synthetic_second_bars("ES", "2024-03-04", "2024-03-08", seed=5)
    minutes.to_parquet(folder / "es_1m.parquet")
    seconds.to_parquet(folder / "es_1s.parquet")
    runner = ResearchRunner(results_dir=folder / "out", backend="sequential", progress=False,
                            report=False, analysis=False)
    return (runner.run_spec(walk_spec(folder)),
            runner.run_spec(walk_spec(folder, "es_1s.parquet")), folder)


def test_the_decided_sweep_lies_inside_the_minute_band_and_says_so(sweeps):
    plain, resolved, folder = sweeps
    fills = resolved.manifest["fills"]
    assert fills["resolve_with"] == str(folder / "es_1s.parquet")
    assert fills["results"].startswith("rows the minute bars cannot decide are decided on the "
                                       "1-second bars of data.resolve_with")
    assert plain.manifest["fills"]["resolve_with"] is None
    assert resolved.manifest["spec"]["data"]["resolve_with"] == "es_1s.parquet"
    band = plain.summary.set_index("combo_id")
    decided = resolved.summary.set_index("combo_id")
    assert list(band.index) == list(decided.index)  # the same combos, the same ids
    assert band["ambiguous_trades"].sum() > 0
    assert (decided["undecided_trades"] == 0).all()
    assert (band["undecided_trades"] == band["ambiguous_trades"]).all()
    assert (band["net_usd_pessimistic"] <= decided["net_profit_usd"]).all()
    assert (decided["net_profit_usd"] <= band["net_usd_optimistic"]).all()
    for column in ("ambiguous_trades", "net_usd_pessimistic", "net_usd_optimistic"):
        assert decided[column].equals(band[column])
    trades = resolved.trades()
    assert set(trades["decided_by"].astype(str)) == {"minute bars", "1-second bars"}
    assert (trades["ambiguous"] == (trades["decided_by"] == "1-second bars")).all()


def test_a_missing_resolve_with_file_is_a_spec_error(tmp_path):
    (tmp_path / "es_1m.parquet").write_bytes(b"")
    with pytest.raises(SpecError, match=r"^data\.resolve_with: 'nope\.parquet': no such file or "
                                        r"folder"):
        walk_spec(tmp_path, "nope.parquet")
