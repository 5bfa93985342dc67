"""The prepared-bars cache: same files, same bytes; a changed file is read again; a damaged
entry, a full cache, an unwritable folder and --no-cache each do what docs/guide.md says."""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.engine import bars_pack, data
from research.engine.bars import Bars
from research.engine.formats.options import LoadOptions
from research.engine.synthetic import synthetic_bars
from research.errors import SpecError
from research.results.provenance import bars_fingerprint
from research.spec import bars_cache
from research.spec.bars_cache import CacheSettings, cached_bars
from research.spec.cache_entry import SUFFIX, DamagedEntry, read_entry, write_entry
from research.spec.data_source import parse_data
from research.spec.inspection import inspected
from tests import bar_writers as write

PRICES = ("open", "high", "low", "close")


@pytest.fixture(scope="module")
def es_week():
    return synthetic_bars("ES", "2024-03-04", "2024-03-08", seed=5)


@pytest.fixture
def kibot_file(tmp_path, es_week):
    return write.kibot(es_week, tmp_path / "ES.txt")


def options_for(path: Path, **keys) -> LoadOptions:
    return LoadOptions.checked(str(path), instrument=keys.pop("instrument", "ES"), **keys)


def settings(tmp_path: Path, **kwargs) -> CacheSettings:
    return CacheSettings(folder=str(tmp_path / "cache"), **kwargs)


def entries(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "cache"
    return sorted(folder.glob("*" + SUFFIX)) if folder.exists() else []


def assert_same_bars(got: Bars, expected: Bars) -> None:
    """Every field equal, arrays value for value and dtype for dtype (the walk's too)."""
    for field in dataclasses.fields(Bars):
        mine, theirs = getattr(got, field.name), getattr(expected, field.name)
        if field.name == "cache":
            continue
        if field.name == "walk":
            for part in dataclasses.fields(mine):
                if not part.compare:  # made on the first walk (walk_kernel), not stored
                    continue
                a, b = getattr(mine, part.name), getattr(theirs, part.name)
                assert a.dtype == b.dtype and np.array_equal(a, b), part.name
        elif isinstance(theirs, np.ndarray):
            assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs), field.name
        else:
            assert mine == theirs, field.name
    assert bars_fingerprint(got) == bars_fingerprint(expected)


class LoaderSpy:
    """Counts the loader's reads of files (bars_from_files and bars_by_symbol)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        for module, name in ((bars_cache, "bars_from_files"),
                             (sys.modules["research.spec.inspection"], "bars_by_symbol")):
            original = getattr(module, name)
            monkeypatch.setattr(module, name, self._counted(original))

    def _counted(self, original):
        def counted(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)
        return counted


def test_every_bars_field_is_packed():
    assert {field.name for field in dataclasses.fields(Bars)} == bars_pack.PACKED_FIELDS


def test_cold_warm_and_stale_give_the_same_bars(tmp_path, kibot_file, monkeypatch):
    spy = LoaderSpy(monkeypatch)
    options, cache = options_for(kibot_file), settings(tmp_path)
    expected = data.bars_from_files(kibot_file, options)
    cold = cached_bars(kibot_file, options, cache)
    warm = cached_bars(kibot_file, options, cache)
    assert (cold.cache, warm.cache, spy.calls) == ("miss", "hit", 1)
    assert_same_bars(cold, expected)
    assert_same_bars(warm, expected)
    os.utime(kibot_file, ns=(1_600_000_000 * 10**9,) * 2)  # touched: another fingerprint
    stale = cached_bars(kibot_file, options, cache)
    assert (stale.cache, spy.calls) == ("miss", 2)
    assert_same_bars(stale, expected)
    assert len(entries(tmp_path)) == 2


def test_a_file_changed_at_its_end_with_its_size_and_time_kept_is_read_again(
        tmp_path, kibot_file, monkeypatch):
    """The fingerprint: size, mtime_ns and a hash of the first and last 64 KiB."""
    spy = LoaderSpy(monkeypatch)
    options, cache = options_for(kibot_file), settings(tmp_path)
    cached_bars(kibot_file, options, cache)
    info = kibot_file.stat()
    text = kibot_file.read_bytes().rstrip(b"\n")
    digit = b"1" if text[-1:] != b"1" else b"2"  # the last volume: same size, other bytes
    kibot_file.write_bytes(text[:-1] + digit + b"\n")
    os.utime(kibot_file, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert kibot_file.stat().st_size == info.st_size
    assert kibot_file.stat().st_mtime_ns == info.st_mtime_ns
    assert cached_bars(kibot_file, options, cache).cache == "miss"
    assert spy.calls == 2


def test_held_bars_of_a_roll_round_trip(tmp_path):
    base = synthetic_bars("NQ", "2024-12-02", "2024-12-20", seed=4)
    stamps = base["timestamp"].dt.tz_convert("America/Chicago")
    front = base[stamps < pd.Timestamp("2024-12-17", tz="America/Chicago")]
    back = base[stamps >= pd.Timestamp("2024-12-08 17:00", tz="America/Chicago")]
    frame = pd.concat([front.assign(contract="NQZ4", volume=5000),
                       back.assign(contract="NQH5", volume=100,
                                   **{name: back[name] + 250.0 for name in PRICES})],
                      ignore_index=True)
    path = write.databento_csv(frame, tmp_path / "glbx-nq.csv")
    options, cache = options_for(path, instrument="NQ"), settings(tmp_path)
    expected = data.bars_from_files(path, options)
    assert expected.held_bars > 0 and expected.contracts == ("NQH5", "NQZ4")
    cached_bars(path, options, cache)
    warm = cached_bars(path, options, cache)
    assert warm.cache == "hit"
    assert_same_bars(warm, expected)


def test_loader_warnings_and_dropped_bars_round_trip_and_are_said_again(tmp_path, es_week,
                                                                         caplog):
    spiked = es_week.copy()
    spiked.loc[500, "high"] = spiked.loc[500, "high"] * 3
    path = write.kibot(spiked, tmp_path / "ES.txt")
    cache = settings(tmp_path)
    for bad_bars in ("warn", "drop"):
        options = options_for(path, bad_bars=bad_bars)
        expected = data.bars_from_files(path, options)
        cached_bars(path, options, cache)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            warm = cached_bars(path, options, cache)
        assert warm.cache == "hit"
        assert_same_bars(warm, expected)
        assert warm.load_warnings == expected.load_warnings
        assert warm.dropped_bars == expected.dropped_bars
        for message in warm.load_warnings:
            assert message in caplog.text
    assert len(entries(tmp_path)) == 2  # bad_bars is part of the key


def test_every_load_option_and_the_path_as_given_are_part_of_the_key(tmp_path, kibot_file):
    cache = settings(tmp_path)
    cached_bars(kibot_file, options_for(kibot_file), cache)
    for keys in ({"timezone": "America/New_York"}, {"start": "2024-03-05"},
                 {"snap_to_tick": True}, {"roll": "none"}, {"format": "kibot"}):
        assert cached_bars(kibot_file, options_for(kibot_file, **keys), cache).cache == "miss"
    relative = os.path.relpath(kibot_file)
    assert cached_bars(relative, options_for(kibot_file), cache).source == relative


def test_a_truncated_entry_is_ignored_and_written_again(tmp_path, kibot_file, caplog,
                                                        monkeypatch):
    spy = LoaderSpy(monkeypatch)
    options, cache = options_for(kibot_file), settings(tmp_path)
    expected = cached_bars(kibot_file, options, cache)
    (entry,) = entries(tmp_path)
    whole = entry.read_bytes()
    for damaged in (whole[:len(whole) // 2], whole[:-1] + bytes([whole[-1] ^ 1]),
                    whole[:100] + b"\0" * 8 + whole[108:]):
        entry.write_bytes(damaged)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            again = cached_bars(kibot_file, options, cache)
        assert again.cache == "miss"
        assert "a damaged prepared-bars cache entry" in caplog.text
        assert_same_bars(again, expected)
        assert entry.read_bytes() == whole  # written again, the same bytes
    assert spy.calls == 4
    assert cached_bars(kibot_file, options, cache).cache == "hit"


def test_an_entry_under_another_key_or_a_link_is_never_used(tmp_path):
    path = tmp_path / "e.bars"
    write_entry(path, {"k": 1}, None, {"x": np.arange(3)})
    with pytest.raises(DamagedEntry, match="another key"):
        read_entry(path, {"k": 2}, max_bytes=2**20)
    with pytest.raises(DamagedEntry, match="over the cache's cap"):
        read_entry(path, {"k": 1}, max_bytes=10)
    link = tmp_path / "link.bars"
    link.symlink_to(path)
    from research.errors import UnsafeFileError

    with pytest.raises(UnsafeFileError, match="symbolic link"):
        read_entry(link, {"k": 1}, max_bytes=2**20)


def test_a_link_in_place_of_an_entry_is_left_alone(tmp_path, kibot_file, caplog):
    options, cache = options_for(kibot_file), settings(tmp_path)
    cached_bars(kibot_file, options, cache)
    (entry,) = entries(tmp_path)
    target = tmp_path / "elsewhere.bin"
    target.write_bytes(b"not yours")
    entry.unlink()
    entry.symlink_to(target)
    with caplog.at_level(logging.WARNING):
        bars = cached_bars(kibot_file, options, cache)
    assert bars.cache == "miss" and "cannot be read" in caplog.text
    assert target.read_bytes() == b"not yours" and entry.is_symlink()


def test_the_size_cap_evicts_the_least_recently_used(tmp_path, es_week):
    paths = [write.kibot(es_week, tmp_path / f"ES{i}.txt") for i in range(3)]
    one = cached_bars(paths[0], options_for(paths[0]), settings(tmp_path))
    (entry,) = entries(tmp_path)
    cap = entry.stat().st_size * 2 + entry.stat().st_size // 2  # room for two entries
    cache = settings(tmp_path, max_bytes=cap)
    assert one.cache == "miss"
    cached_bars(paths[1], options_for(paths[1]), cache)
    os.utime(entry, ns=(1, 1))  # the first is the oldest ...
    assert cached_bars(paths[0], options_for(paths[0]), cache).cache == "hit"  # ... read now
    cached_bars(paths[2], options_for(paths[2]), cache)
    assert len(entries(tmp_path)) == 2
    states = [cached_bars(path, options_for(path), cache).cache for path in paths[:2]]
    assert states == ["hit", "miss"]  # the second, least recently used, was evicted
    assert sum(path.stat().st_size for path in entries(tmp_path)) <= cap


def test_eviction_deletes_only_what_the_cache_wrote(tmp_path):
    from research.spec.cache_entry import evict

    ours = tmp_path / ("a" * 40 + SUFFIX)
    write_entry(ours, {"k": 1}, None, {"x": np.arange(1000)})
    crashed = tmp_path / f".{'b' * 40}{SUFFIX}.{'c' * 12}.tmp"
    foreign = [tmp_path / "notes.bars", tmp_path / f".other.{'d' * 12}.tmp",
               tmp_path / "data.csv"]
    for path in (crashed, *foreign):
        path.write_bytes(b"x" * 10_000)
        os.utime(path, ns=(10**9, 10**9))  # long ago
    assert evict(tmp_path, max_bytes=0) == 0
    assert not ours.exists() and not crashed.exists()
    assert all(path.exists() for path in foreign)


def test_bars_larger_than_the_cap_are_not_stored(tmp_path, kibot_file):
    cache = settings(tmp_path, max_bytes=1000)
    assert cached_bars(kibot_file, options_for(kibot_file), cache).cache == "miss"
    assert entries(tmp_path) == []


@pytest.mark.parametrize("off", [{"enabled": False}, {"max_bytes": 0}])
def test_no_cache_reads_nothing_and_writes_nothing(tmp_path, kibot_file, monkeypatch, off):
    cached_bars(kibot_file, options_for(kibot_file), settings(tmp_path))
    before = {path: path.stat().st_mtime_ns for path in entries(tmp_path)}
    spy = LoaderSpy(monkeypatch)
    assert cached_bars(kibot_file, options_for(kibot_file), settings(tmp_path, **off)).cache \
        == "off"
    assert spy.calls == 1
    assert {path: path.stat().st_mtime_ns for path in entries(tmp_path)} == before
    other = tmp_path / "other" / "ES.txt"
    other.parent.mkdir()
    other.write_bytes(kibot_file.read_bytes())
    cached_bars(other, options_for(other), settings(tmp_path, **off))
    assert entries(tmp_path) == list(before)


def test_an_unwritable_cache_folder_is_a_warning_and_the_load_goes_on(tmp_path, kibot_file,
                                                                      caplog):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder's parent should be")
    cache = CacheSettings(folder=str(blocker / "cache"))
    expected = data.bars_from_files(kibot_file, options_for(kibot_file))
    with caplog.at_level(logging.WARNING):
        bars = cached_bars(kibot_file, options_for(kibot_file), cache)
    assert "the prepared-bars cache cannot be written" in caplog.text
    assert "--no-cache" in caplog.text
    assert_same_bars(bars, expected)


def test_a_bars_field_the_pack_does_not_know_is_a_warning_not_a_failure(
        tmp_path, kibot_file, caplog, monkeypatch):
    monkeypatch.setattr(bars_pack, "PACKED_FIELDS", bars_pack.PACKED_FIELDS - {"cache"})
    with caplog.at_level(logging.WARNING):
        bars = cached_bars(kibot_file, options_for(kibot_file), settings(tmp_path))
    assert bars.cache == "miss" and len(bars) > 0 and entries(tmp_path) == []
    assert "are not packed" in caplog.text


def test_the_default_folder_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert bars_cache.default_folder() == tmp_path / "research"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # invalid by the XDG spec
    assert bars_cache.default_folder() == Path.home() / ".cache" / "research"


def test_spec_keys_and_their_mistakes(tmp_path, kibot_file):
    spec = parse_data({"path": str(kibot_file), "cache_dir": "~/x", "cache_max_bytes": 5},
                      "ES", None)
    assert spec.cache == CacheSettings(folder=str(Path.home() / "x"), max_bytes=5)
    assert "cache_dir" not in spec.to_dict()  # a machine's setting: not in the spec hash
    assert spec.with_cache(str(tmp_path)).cache.folder == str(tmp_path)
    assert not spec.with_cache(enabled=False).cache.on
    with pytest.raises(SpecError, match=r"data\.cache_max_bytes: 'lots' is not a whole"):
        parse_data({"path": str(kibot_file), "cache_max_bytes": "lots"}, "ES", None)
    with pytest.raises(SpecError, match=r"data\.cache_dir: 3 is not a folder path"):
        parse_data({"path": str(kibot_file), "cache_dir": 3}, "ES", None)


def test_the_inspection_is_cached_and_shows_the_same_screen(tmp_path, es_week, monkeypatch):
    from research.cli.data_inspector import inspect

    mixed = pd.concat([es_week, es_week.iloc[:50].assign(instrument="ZZ")])
    path = write.canonical_csv(mixed, tmp_path / "mixed.csv")
    spy = LoaderSpy(monkeypatch)
    plain = inspect(str(path))
    cache = settings(tmp_path)
    cold, warm = (inspect(str(path), cache=cache) for _ in range(2))
    assert plain == cold == warm
    assert "ZZ: not an instrument of the table (skipped)" in warm
    assert spy.calls == 2
    assert inspected(str(path), {}, cache).cache == "hit"


def test_research_data_no_cache_flag(tmp_path, kibot_file, capsys):
    from research.cli.data_inspector import main

    folder = tmp_path / "cache"
    assert main([str(kibot_file), "--cache-dir", str(folder), "--no-cache"]) == 0
    assert not folder.exists()
    assert main([str(kibot_file), "--cache-dir", str(folder)]) == 0
    assert len(entries(tmp_path)) == 1


WRITER = """
import sys
from research.engine.formats.options import LoadOptions
from research.spec.bars_cache import CacheSettings, cached_bars
path, folder = sys.argv[1:]
options = LoadOptions.checked(path, instrument="ES")
for _ in range(3):
    bars = cached_bars(path, options, CacheSettings(folder=folder))
    print(bars.cache, int(bars.close_ticks.sum()))
"""


@pytest.mark.slow
def test_two_processes_writing_the_same_entry_at_once(tmp_path, kibot_file):
    folder = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    runs = [subprocess.Popen([sys.executable, "-c", WRITER, str(kibot_file), str(folder)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    totals = {line.split()[1] for out, _ in outputs for line in out.splitlines()}
    expected = data.bars_from_files(kibot_file, options_for(kibot_file))
    assert totals == {str(int(expected.close_ticks.sum()))}
    assert all("Traceback" not in err and "damaged" not in err for _, err in outputs)
    assert len(entries(tmp_path)) == 1
    assert not [path for path in folder.iterdir() if path.suffix == ".tmp"]
    assert_same_bars(cached_bars(kibot_file, options_for(kibot_file),
                                 CacheSettings(folder=str(folder))), expected)
