"""Dashboard figures and chart series, computed with aggregate queries."""
