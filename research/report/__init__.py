"""Reading a sweep: the top table (text) and the heatmap PNGs.

- top.py: ranking and the plain-text table; heatmaps.py: cells over pairs of axes
- colors.py, format.py, labels.py: the colour scale, number formats, metric names and units
- png.py: the PNGs (the only user of matplotlib)

>>> sorted(name for name in __all__ if name.startswith("write"))
['write_heatmaps']
"""

from research.report.heatmaps import numeric_axes
from research.report.png import write_heatmaps
from research.report.top import format_top, top_combos

__all__ = ["format_top", "numeric_axes", "top_combos", "write_heatmaps"]
