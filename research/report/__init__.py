"""Reading a sweep: the top table (text), heatmap PNGs and the self-contained report.html.

`write_report(folder)` writes ``report.html`` (html.py); ``python -m research.report
RESULTS_DIR`` does the same from the command line. The modules, one job each:

- inputs.py: everything read from the results folder, named in one place
- top.py: ranking and the plain-text table; heatmaps.py: cells over pairs of axes
- colors.py, format.py, labels.py: the colour scale, number formats, metric names and units
- png.py: the PNGs (Pillow); charts.py, heatmap_svg.py: the page's inline SVG
- series.py, trade_stats.py: what the page derives from the daily matrix and the trades
- page_*.py: the page's sections; html.py: the page around them

>>> sorted(name for name in __all__ if name.startswith("write"))
['write_heatmaps', 'write_report']
"""

from research.report.heatmaps import numeric_axes
from research.report.html import build_report, write_report
from research.report.png import write_heatmaps
from research.report.results_folder import ReportError, ReportInputs
from research.report.top import DEFAULT_RANK, LOWER_IS_BETTER, format_top, top_combos

__all__ = ["DEFAULT_RANK", "LOWER_IS_BETTER", "ReportError", "ReportInputs", "build_report",
           "format_top", "numeric_axes", "top_combos", "write_heatmaps", "write_report"]
