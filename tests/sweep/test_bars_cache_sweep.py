"""A sweep's results do not depend on the prepared-bars cache: cold, warm and stale give the
same bytes; the manifest says where the bars came from; --no-cache and an unwritable cache
folder leave the results as they are."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest
import yaml

from research.engine.synthetic import synthetic_bars
from research.research_runner import ResearchRunner
from research.spec.grid import spec_from_dict
from tests import bar_writers as write
from tests.helpers import ROOT, digests

RESULTS = ("summary.csv", "summary.parquet", "trades.parquet", "daily.parquet")
SMALL_GRID = {"slot": ["07:30", "10:00"], "target": [10, 15]}


def file_spec(path: Path, name: str, grid: dict, cache_dir: Path, **data) -> dict:
    return {"name": name, "data": {"path": str(path), "cache_dir": str(cache_dir), **data},
            "base": {"instrument": "ES"}, "grid": grid}


def run(spec: dict, results: Path, **runner):
    options = {"backend": "sequential", "progress": False, "analysis": False,
               "report": False, **runner}
    return ResearchRunner(results_dir=results, **options).run_spec(spec_from_dict(spec))


def cache_states(tmp_path: Path, path: Path, grid: dict, outputs=RESULTS, **runner):
    """Cold, warm, then stale (the file touched): each sweep's digests and manifest data."""
    found = []
    for state, name in (("cold", "a"), ("warm", "b"), ("stale", "c")):
        if state == "stale":
            os.utime(path, ns=(1_600_000_000 * 10**9,) * 2)
        sweep = run(file_spec(path, name, grid, tmp_path / "cache"), tmp_path / "results",
                    **runner)
        found.append((digests(sweep.path, outputs), {
            **sweep.manifest["data"], "fingerprint": sweep.manifest["data_fingerprint"]}))
    return found


@pytest.fixture(scope="module")
def es_month():
    return synthetic_bars("ES", "2024-03-04", "2024-03-15", seed=3)


@pytest.mark.slow  # three sweeps; tests/formats/test_bars_cache.py holds the bars equal fast
def test_cold_warm_and_stale_sweeps_write_the_same_bytes(tmp_path, es_month):
    path = write.kibot(es_month, tmp_path / "ES.txt")
    (cold, cold_data), (warm, warm_data), (stale, stale_data) = cache_states(
        tmp_path, path, SMALL_GRID)
    assert cold == warm == stale
    assert [cold_data.pop("bars_cache"), warm_data.pop("bars_cache"),
            stale_data.pop("bars_cache")] == ["miss", "hit", "miss"]
    assert cold_data == warm_data == stale_data  # the data facts and fingerprint too


def sweep_cli(*args) -> tuple[int, str]:
    from research.cli.sweep import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([*map(str, args), "--quiet", "--no-analysis", "--no-report",
                     "--backend", "sequential"])
    return code, err.getvalue()


def test_sweep_cli_cache_flags(tmp_path, es_month, caplog):
    path = write.kibot(es_month, tmp_path / "ES.txt")
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(file_spec(path, "cli", {"target": [10, 15]},
                                                  tmp_path / "from-spec")))
    results = tmp_path / "results"
    manifest = results / "cli" / "manifest.json"
    assert sweep_cli(spec_file, "--results-dir", results, "--no-cache")[0] == 0
    assert json.loads(manifest.read_text())["data"]["bars_cache"] == "off"
    assert not (tmp_path / "from-spec").exists()
    flag_dir = tmp_path / "from-flag"
    assert sweep_cli(spec_file, "--results-dir", results, "--fresh", "--cache-dir",
                     flag_dir)[0] == 0
    assert len(list(flag_dir.glob("*.bars"))) == 1 and not (tmp_path / "from-spec").exists()
    assert json.loads(manifest.read_text())["data"]["bars_cache"] == "miss"
    blocked = tmp_path / "blocker"
    blocked.write_text("a file where the cache folder's parent should be")
    code, _ = sweep_cli(spec_file, "--results-dir", results, "--fresh", "--cache-dir",
                        blocked / "cache")
    assert code == 0
    assert "the prepared-bars cache cannot be written" in caplog.text


@pytest.mark.slow
def test_the_default_sweep_on_a_file_is_byte_identical_cold_warm_and_stale(tmp_path):
    """sweeps/grid.yaml's grid and bars (one year of synthetic ES) written as a Kibot file,
    every output of the run compared, robustness.json included, on the default backend."""
    default = yaml.safe_load((ROOT / "sweeps" / "grid.yaml").read_text())
    frame = synthetic_bars(**default["data"]["synthetic"])
    path = write.kibot(frame, tmp_path / "ES.txt")
    found = cache_states(tmp_path, path, default["grid"], (*RESULTS, "robustness.json"),
                         backend=None, analysis=True, max_cpus=2)
    assert found[0][0] == found[1][0] == found[2][0]
    assert [data["bars_cache"] for _, data in found] == ["miss", "hit", "miss"]
