"""The breakout engine: bars -> ranges -> entries -> exits -> rows."""
