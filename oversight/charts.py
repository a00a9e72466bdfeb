"""Charts as server-rendered SVG (the `leather` package): no script, no inline style.

leather draws with SVG presentation attributes only (fill, stroke, font-family), so the charts
work under a Content-Security-Policy without 'unsafe-inline', print as vectors and scale to a
360-px phone (the outer <svg> gets a viewBox and width 100%). Every chart on a page also has its
numbers in a table beside it.
"""

import xml.etree.ElementTree as ET

import leather
from django.utils.safestring import mark_safe

FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"
BAR_COLOUR = "#b3261e"

# leather keeps its look in module attributes; these are this project's (Chinese labels need a
# CJK font and about 14 px per character for leather's label-space estimate).
for _prefix in ("title", "legend", "axis_title", "tick"):
    setattr(leather.theme, f"{_prefix}_font_family", FONT)
leather.theme.tick_font_char_width = 13
leather.theme.legend_font_char_width = 13
leather.theme.background_color = "#ffffff"


def _svg(chart, title: str, width: int, height: int) -> str:
    """The chart as an <svg> element that scales with its container, titled for screen readers."""
    root = ET.fromstring(chart.to_svg(width=width, height=height))
    root.set("viewBox", f"0 0 {width} {height}")
    root.set("width", "100%")
    root.attrib.pop("height", None)
    root.set("role", "img")
    root.set("aria-label", title)
    root.set("class", "chart")
    label = ET.Element("title")
    label.text = title
    root.insert(0, label)
    ET.register_namespace("", "http://www.w3.org/2000/svg")
    return mark_safe(ET.tostring(root, encoding="unicode"))  # noqa: S308 — built by ElementTree, text escaped


def bars(title: str, items: list[tuple[str, float]], *, x_max: float | None = None) -> str:
    """Horizontal bars, one per (label, value), in the order given (readable on a phone)."""
    items = [(value or 0, label) for label, value in items]
    chart = leather.Chart()
    chart.add_bars(items, fill_color=BAR_COLOUR)
    if x_max is not None:
        chart.add_x_scale(0, x_max)
    height = 90 + 36 * max(len(items), 1)
    return _svg(chart, title, 640, height)


def columns(title: str, items: list[tuple[str, float]]) -> str:
    """Vertical columns, one per (label, value) — a monthly trend."""
    chart = leather.Chart()
    chart.add_columns([(label, value or 0) for label, value in items], fill_color=BAR_COLOUR)
    return _svg(chart, title, 640, 260)

