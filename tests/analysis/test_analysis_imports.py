"""A sweep as typed does not import scipy.stats, arch, statsmodels or matplotlib: together
they cost several seconds of start-up, more than the analysis and the report themselves
(issue 23). research.analysis.normal, block_length and resample stand in for them."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
HEAVY = ("scipy", "arch", "statsmodels", "matplotlib")
# numba imports scipy's package itself (a few ms) and, to call BLAS, scipy.linalg.cython_blas:
# those are the engine's; what the analysis used to pull in is below
HEAVY_LOADED = ("scipy.stats", "scipy.special", "arch", "statsmodels", "matplotlib")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_library_module_imports_scipy_arch_statsmodels_or_matplotlib():
    found = {f"{path.relative_to(ROOT)}: {name}"
             for path in sorted((ROOT / "research").rglob("*.py"))
             for name in imported_modules(path) if name.split(".")[0] in HEAVY}
    assert not found


@pytest.mark.slow  # a fresh interpreter: this test process has imported them already
def test_analysis_and_report_of_a_folder_import_none_of_them(tmp_path):
    script = f"""
import json, sys
import numpy as np, pandas as pd
from research.analysis import analyze
from research.report import write_report  # the report's modules, as the sweep loads them
dates = pd.bdate_range("2024-01-01", periods=60, name="date")
daily = pd.DataFrame(np.random.default_rng(0).integers(-300, 300, (60, 3)) * 1.0,
                     index=dates, columns=["a", "b", "c"])
params = pd.DataFrame({{"target": [10, 15, 20]}}, index=["a", "b", "c"])
from research.analysis import AnalysisConfig
analyze(daily, params, {{"target": [10, 15, 20]}}, AnalysisConfig(train=20, test=10, blocks=4,
        bootstrap_reps=200))
print(json.dumps(sorted(m for m in sys.modules
                        if any(m == h or m.startswith(h + ".") for h in {HEAVY_LOADED!r}))))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
