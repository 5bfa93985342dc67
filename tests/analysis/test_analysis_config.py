"""AnalysisConfig: docs/robustness.md's defaults; every bad setting named with what is allowed."""

from __future__ import annotations

import pytest

from research.analysis import AnalysisConfig
from research.errors import SpecError


def test_defaults():
    config = AnalysisConfig()
    assert (config.train, config.test, config.step, config.step_dates) == (126, 21, None, 21)
    assert (config.anchored, config.metric, config.blocks, config.enabled) == \
        (False, "sharpe", 16, True)
    assert (config.seed, config.bootstrap_reps, config.block_length) == (0, 1000, None)


def test_from_mapping_round_trips_and_takes_null_and_auto():
    config = AnalysisConfig.from_mapping({"train": 63, "step": 42, "anchored": True,
                                          "metric": "net_usd", "block_length": "auto"})
    assert (config.train, config.step_dates, config.block_length) == (63, 42, None)
    assert AnalysisConfig.from_mapping(config.to_dict()) == config
    assert AnalysisConfig.from_mapping(None) == AnalysisConfig()
    assert AnalysisConfig.from_mapping({"step": None}).step_dates == 21


@pytest.mark.parametrize(("raw", "message"), [
    ({"trian": 10}, r"analysis: unknown key\(s\) \['trian'\]; allowed: train, test, step"),
    ({"train": True}, r"analysis\.train: True is not an integer >= 2"),
    ({"train": 1}, r"analysis\.train: 1 is not an integer >= 2 \(a Sharpe ratio needs two"),
    ({"train": 12.0}, r"analysis\.train: 12\.0 is not an integer >= 2"),
    ({"test": 0}, r"analysis\.test: 0 is not an integer >= 1"),
    ({"step": 10}, r"analysis\.step: 10 is shorter than test 21; test windows must not "
                   r"overlap"),
    ({"anchored": "yes"}, r"analysis\.anchored: 'yes' is not true or false"),
    ({"enabled": 1}, r"analysis\.enabled: 1 is not true or false"),
    ({"metric": "sortino"}, r"analysis\.metric: 'sortino' is not one of sharpe, net_usd"),
    ({"blocks": 7}, r"analysis\.blocks: 7 is not an even integer from 2 to 20"),
    ({"blocks": 22}, r"analysis\.blocks: 22 is not an even integer from 2 to 20"),
    ({"seed": -1}, r"analysis\.seed: -1 is not an integer >= 0"),
    ({"bootstrap_reps": 50}, r"analysis\.bootstrap_reps: 50 is not an integer >= 100"),
    ({"block_length": 0}, r"analysis\.block_length: 0 is not an integer >= 1 \(or null / "
                          r"'auto'\)"),
])
def test_bad_settings_are_spec_errors(raw, message):
    with pytest.raises(SpecError, match=message):
        AnalysisConfig.from_mapping(raw)


def test_where_names_the_section_and_direct_construction_checks_too():
    with pytest.raises(SpecError, match=r"^sweeps/a\.yaml: analysis\.blocks: 3 "):
        AnalysisConfig.from_mapping({"blocks": 3}, where="sweeps/a.yaml: analysis")
    with pytest.raises(SpecError, match=r"analysis: expected a mapping of train"):
        AnalysisConfig.from_mapping([1, 2])
    with pytest.raises(SpecError, match=r"^train: 0 is not an integer >= 2"):
        AnalysisConfig(train=0)
