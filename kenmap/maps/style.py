"""Colours, classes and the legend of kenmap's maps."""

from __future__ import annotations

import math

import numpy as np

from kenmap.maps.escape import text as esc

#: YlOrRd, 5 classes: 高齢化率 from light to dark.
CLASS_COLOURS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
NO_DATA = "#d9d9d9"
GAP_COLOUR = "#222222"
#: Glyphs drawn in hub markers (no web font needed offline).
GLYPHS = {"salon": "サ", "ibasho": "居", "fukushi_plaza": "ふ", "hokatsu": "包",
          "chiku_kyoten": "拠", "kominkan": "公", "shukaijo": "集"}
STATUS_LABELS = {"existing": "既存", "planned": "計画", "candidate": "候補地"}


def natural_breaks(values: np.ndarray, k: int = 5) -> list[float]:
    """Upper bounds of up to ``k`` classes (Fisher–Jenks natural breaks, mapclassify)."""
    import warnings

    import mapclassify

    finite = values[np.isfinite(values)]
    distinct = np.unique(finite)
    if len(distinct) == 0:
        return []
    if len(distinct) <= k:
        return [float(v) for v in distinct]
    if len(finite) > 1000:
        # Fisher–Jenks is quadratic: classify 1,000 evenly spaced quantiles, which keep the
        # distribution's shape, and end the top class at the true maximum. Deterministic,
        # unlike mapclassify's random sampling.
        finite = np.quantile(finite, np.linspace(0, 1, 1000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Numba not installed": the pure-Python path is fine
        bins = [float(b) for b in mapclassify.FisherJenks(finite, k=k).bins]
    bins[-1] = float(distinct[-1])
    return bins


def class_of(value: float | None, bins: list[float]) -> int:
    """Index of the class holding ``value`` (-1 for unknown)."""
    if value is None or not math.isfinite(value) or not bins:
        return -1
    for i, upper in enumerate(bins):
        if value <= upper + 1e-9:
            return i
    return len(bins) - 1


def colour_of(cls: int, n_classes: int) -> str:
    """Fill colour of class ``cls`` out of ``n_classes`` (grey for -1, unknown)."""
    if cls < 0:
        return NO_DATA
    # Spread fewer classes over the whole ramp so the darkest stays darkest.
    idx = round(cls * (len(CLASS_COLOURS) - 1) / max(n_classes - 1, 1))
    return CLASS_COLOURS[idx]


def glyph(key: str, label: str, icon: str | None) -> str:
    """The character drawn in a hub type's marker: a one-character non-ascii ``icon``, else
    the built-in glyph, else the first character of ``label``."""
    if icon and len(icon) == 1 and not icon.isascii():
        return icon
    return GLYPHS.get(key, label[:1])


def marker_html(colour: str, text: str, status: str) -> str:
    """A round marker: filled for existing hubs, dashed white for planned, pale for candidates."""
    if status == "planned":
        style = f"background:#fff;color:{colour};border:2px dashed {colour};"
    elif status == "candidate":
        style = f"background:#f2f2f2;color:#777;border:1.5px dotted {colour};opacity:.85;"
    else:
        style = f"background:{colour};color:#fff;border:2px solid #fff;"
    return (f'<div class="km-hub km-{status}" style="{style}width:20px;height:20px;'
            f"border-radius:50%;font:bold 12px/20px sans-serif;text-align:center;"
            f'box-shadow:0 0 2px #000">{esc(text)}</div>')


def _span(colour: str, text: str, status: str) -> str:
    return marker_html(colour, text, status).replace("<div", "<span").replace("</div>",
                                                                              "</span>")


def legend_html(*, bins: list[float], city_rate: float | None, city_name: str,
                gap_label: str | None, hub_rows: list[tuple[str, str, str]],
                sources: list[str], reach: str | None,
                title: str = "高齢化率（65歳以上の割合）", unit: str = "%") -> str:
    """The map's legend, in Japanese, with the city's own rate marked."""
    rows = []
    lower = None
    for i, upper in enumerate(bins):
        colour = colour_of(i, len(bins))
        digits = 1 if unit in ("%", "pt") else 0
        label = f"{lower:,.{digits}f}–{upper:,.{digits}f}{unit}" if lower is not None \
            else f"〜{upper:,.{digits}f}{unit}"
        mark = ""
        if city_rate is not None and class_of(city_rate, bins) == i:
            mark = (f' <b class="km-city-rate">◀ {esc(city_name)} '
                    f"{city_rate:,.{digits}f}{esc(unit)}</b>")
        rows.append(f'<div><i style="background:{colour}"></i>{label}{mark}</div>')
        lower = upper
    rows.append(f'<div><i style="background:{NO_DATA}"></i>不明・人口なし</div>')
    if gap_label:
        rows.append(f'<div><i class="km-gap-key" style="border:2px solid {GAP_COLOUR}"></i>'
                    f"{esc(gap_label)}</div>")
    for colour, text, label in hub_rows:
        rows.append(f"<div>{_span(colour, text, 'existing')} {esc(label)}</div>")
    if hub_rows:
        rows.append(f"<div>{_span('#555', '計', 'planned')} 計画中　"
                    f"{_span('#555', '候', 'candidate')} 候補地</div>")
    if reach:
        rows.append(f"<div>◯ {esc(reach)}</div>")
    return (
        '<div id="km-legend" class="km-legend"><div class="km-legend-title">'
        + esc(title) + "</div>" + "".join(rows)
        + '<div class="km-source">' + "<br>".join(esc(line) for line in sources)
        + "</div></div>"
    )


LEGEND_CSS = """
<style>
.km-legend{position:absolute;z-index:1000;right:10px;bottom:22px;background:#fff;
 padding:8px 10px;font:13px/1.5 'Noto Sans CJK JP','Hiragino Sans','Yu Gothic',sans-serif;
 border-radius:6px;box-shadow:0 1px 5px rgba(0,0,0,.4);max-width:300px}
.km-legend i{display:inline-block;width:18px;height:12px;margin-right:6px;vertical-align:-1px;
 border:1px solid #999;box-sizing:border-box}
.km-legend i.km-gap-key{background:repeating-linear-gradient(-45deg,rgba(17,17,17,.8) 0 2px,
 rgba(34,34,34,.1) 2px 5px)}
.km-legend span.km-hub{display:inline-block;vertical-align:middle;margin:1px 2px}
.km-legend-title{font-weight:bold;margin-bottom:4px}
.km-city-rate{color:#bd0026}
.km-source{margin-top:6px;font-size:11px;color:#555}
.km-title{position:absolute;z-index:1000;left:54px;top:10px;background:rgba(255,255,255,.92);
 padding:6px 12px;font:bold 16px 'Noto Sans CJK JP','Hiragino Sans',sans-serif;
 border-radius:6px;box-shadow:0 1px 5px rgba(0,0,0,.3)}
.km-scale{position:absolute;z-index:1000;left:10px;bottom:22px}
.leaflet-container{background:#f4f1ea;font-family:'Noto Sans CJK JP','Hiragino Sans',sans-serif}
.km-profile td,.km-profile th{padding:1px 6px;text-align:right}
.km-profile td:first-child,.km-profile th:first-child{text-align:left}
.km-north{position:absolute;z-index:1000;right:10px;top:90px;background:#fff;border-radius:4px;
 padding:2px 7px;font:bold 14px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)}
</style>
"""
