"""Population projection per area by the cohort change ratio method (コーホート変化率法).

From two age tables of the same areas five years apart (two censuses, or two register dates),
each 5-year cohort's change ratio (people aged a+5…a+9 at the later date ÷ people aged a…a+4
at the earlier one) carries the later table forward in 5-year steps; the open top band
(e.g. 100歳以上) takes the two oldest bands; 0–4 year-olds come from the child–woman ratio.
The tables hold no sex, so that ratio is 0–4 ÷ all people aged 15–49 (both sexes), which the
results say. Optionally each year is scaled so the city's total and 65+ match an official
projection (社人研 or the city's 人口ビジョン). Results are stored as dated snapshots marked 推計,
so ``stats``, ``gaps``, ``coverage`` and maps take ``--as-of 2040``.

Small areas: a ratio whose base has fewer than :data:`MIN_BASE` people uses the city's ratio
instead, and ratios above :data:`RATIO_CAP` are capped; both are counted in the report. Counts
never go negative (ratios are never negative).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from kenmap.errors import KenmapError
from kenmap.geo.table_io import read_table
from kenmap.layers.hierarchy import filled_layers
from kenmap.model.report import Report
from kenmap.people.snapshots import SNAPSHOTS, snapshot_dates, snapshot_table
from kenmap.people.tables import table_name
from kenmap.workspace import Workspace

#: A cohort whose earlier count is below this uses the city's ratio (too few to say).
MIN_BASE = 5.0
#: Cohort change ratios above this are capped (and counted).
RATIO_CAP = 2.0
#: Two tables are "five years apart" within this many days of five years.
GAP_SLACK_DAYS = 183

_BAND = re.compile(r"^age_(\d+)_(\d+|plus)$")


@dataclass
class Projection:
    """The projected bands per step, with what was assumed."""

    years: list[str]  # base dates of the projected snapshots (YYYY-MM-DD)
    bands: list[str]
    steps: list[NDArray[np.float64]]  # areas × bands, one per year
    fallback: int = 0  # area ratios replaced by the city's
    capped: int = 0  # area ratios capped at RATIO_CAP
    scaled: dict[str, tuple[float, float]] = field(default_factory=dict)  # year → factors


def band_columns(columns: list[str]) -> list[str]:
    """The 5-year age band columns 0–4, 5–9, … and one open top band, in order; refused when
    the table has none or they are not consecutive 5-year bands."""
    bands = sorted((c for c in columns if _BAND.match(c)),
                   key=lambda c: int(_BAND.match(c)[1]))  # type: ignore[index]
    if not bands:
        raise KenmapError("年齢階級（5歳階級）の列がありません。推計には 0～4歳 から最上位の階級"
                          "（例: 100歳以上）までの5歳階級が必要です")
    for i, col in enumerate(bands):
        start, end = _BAND.match(col).groups()  # type: ignore[union-attr]
        last = i == len(bands) - 1
        if int(start) != 5 * i or (end == "plus") != last or (not last and int(end) != 5 * i + 4):
            raise KenmapError(f"年齢階級が5歳刻みの連続ではありません（{col}）。推計には "
                              "0～4歳 から最上位の階級までの5歳階級が必要です")
    if len(bands) < 11:
        raise KenmapError("年齢階級が50歳未満で終わっています。推計には15～49歳を含む"
                          "5歳階級が必要です")
    return bands


def cohort_ratios(p0: NDArray[np.float64], p1: NDArray[np.float64]
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Cohort change ratios (areas × bands; column 0 unused) and child–woman ratios (areas)
    from the earlier and later tables (areas × bands). NaN where the base is zero."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.full(p1.shape, np.nan)
        ratios[:, 1:-1] = p1[:, 1:-1] / p0[:, :-2]
        ratios[:, -1] = p1[:, -1] / (p0[:, -2] + p0[:, -1])
        mothers = p1[:, 3:10].sum(axis=1)  # 15–19 … 45–49
        cwr = p1[:, 0] / mothers
    return ratios, cwr


def project_bands(p0: NDArray[np.float64], p1: NDArray[np.float64], steps: int
                  ) -> Projection:
    """``steps`` five-year steps forward from ``p1`` (areas × bands), ratios from ``p0`` to
    ``p1``; an area's ratio on a thin base is the city's, and ratios are capped."""
    p0, p1 = np.nan_to_num(p0), np.nan_to_num(p1)
    ratios, cwr = cohort_ratios(p0, p1)
    city_r, city_cwr = cohort_ratios(p0.sum(axis=0, keepdims=True),
                                     p1.sum(axis=0, keepdims=True))
    city_r = np.nan_to_num(city_r[0])
    city_cwr_value = float(np.nan_to_num(city_cwr[0]))
    base = np.full(p0.shape, np.inf)
    base[:, 1:-1] = p0[:, :-2]
    base[:, -1] = p0[:, -2] + p0[:, -1]
    thin = (base < MIN_BASE) | ~np.isfinite(ratios)
    thin[:, 0] = False
    ratios = np.where(thin, city_r[None, :], ratios)
    mothers = p1[:, 3:10].sum(axis=1)
    thin_cwr = (mothers < MIN_BASE) | ~np.isfinite(cwr)
    cwr = np.where(thin_cwr, city_cwr_value, cwr)
    over = ratios > RATIO_CAP
    over[:, 0] = False
    ratios = np.where(over, RATIO_CAP, ratios)
    over_cwr = cwr > RATIO_CAP
    cwr = np.where(over_cwr, RATIO_CAP, cwr)
    out = Projection([], [], [], fallback=int(thin[:, 1:].sum() + thin_cwr.sum()),
                     capped=int(over.sum() + over_cwr.sum()))
    current = p1
    for _ in range(steps):
        nxt = np.zeros_like(current)
        nxt[:, 1:-1] = current[:, :-2] * ratios[:, 1:-1]
        nxt[:, -1] = (current[:, -2] + current[:, -1]) * ratios[:, -1]
        nxt[:, 0] = nxt[:, 3:10].sum(axis=1) * cwr
        out.steps.append(nxt)
        current = nxt
    return out


def _years_later(day: str, years: int) -> str:
    base = date.fromisoformat(day)
    try:
        return base.replace(year=base.year + years).isoformat()
    except ValueError:  # 29 February
        return base.replace(year=base.year + years, day=28).isoformat()


def read_official(path: Path, city_code: str | None) -> dict[int, tuple[float, float]]:
    """An official projection: year → (total, 65+), from a small CSV/XLSX (年, 総人口, 65歳以上;
    an optional code column must name this city)."""
    table = read_table(path, encoding=None)
    columns = {str(c).strip(): c for c in table.columns}

    def pick(names: tuple[str, ...], what: str) -> Any:
        found = next((columns[n] for n in names if n in columns), None)
        if found is None:
            raise KenmapError(f"{what}の列がありません（{'、'.join(names)} のどれか）", file=path)
        return found
    year_col = pick(("year", "年", "年次", "西暦"), "年")
    total_col = pick(("total", "総人口", "総数", "人口"), "総人口")
    p65_col = pick(("pop65", "65歳以上", "65歳以上人口", "老年人口"), "65歳以上")
    code_col = next((columns[n] for n in ("code", "市区町村コード", "団体コード") if n in columns),
                    None)
    out: dict[int, tuple[float, float]] = {}
    for i, row in table.iterrows():
        line = int(str(i)) + 2
        if code_col is not None and city_code is not None:
            code = str(row[code_col]).strip()
            if code[:5] != city_code[:5]:
                raise KenmapError(f"市区町村コード {code} はこの市（{city_code}）ではありません",
                                  file=path, row=line, field=str(code_col))
        try:
            year = int(float(str(row[year_col]).replace("年", "")))
            total = float(str(row[total_col]).replace(",", ""))
            p65 = float(str(row[p65_col]).replace(",", ""))
        except ValueError:
            raise KenmapError("年・総人口・65歳以上は数で書いてください", file=path,
                              row=line) from None
        if total < 0 or p65 < 0 or p65 > total:
            raise KenmapError("総人口と65歳以上は0以上で、65歳以上は総人口以下にしてください",
                              file=path, row=line)
        out[year] = (total, p65)
    return out


def project(ws: Workspace, *, to: int, step: int = 5, official: Path | None = None,
            layer: str | None = None) -> Report:
    """Project every area of the finest populated layer to the year ``to`` and store each
    step (every ``step`` years) as a dated snapshot marked 推計."""
    layers = [k for k in filled_layers(ws) if table_name(k) in ws.tables()]
    if not layers:
        raise KenmapError("ワークスペースにまだ人口がありません。先に 'kenmap import population' "
                          "を実行してください")
    layer = layer or layers[-1]
    kept = snapshot_dates(ws)
    info = ws.get(SNAPSHOTS, {}) or {}
    real = [d for d in kept.get(layer, []) if not info[layer][d].get("estimate")]
    if len(real) < 2:
        raise KenmapError(f"{ws.scheme.layer(layer).label}の基準日つきの人口が{len(real)}時点しか"
                          "ありません。推計には5年離れた2時点の年齢別人口が必要です（import "
                          "population --as-of で取り込みます）", field="--layer")
    t1 = real[-1]
    gap = [abs((date.fromisoformat(t1) - date.fromisoformat(d)).days - 1826) for d in real[:-1]]
    if min(gap) > GAP_SLACK_DAYS:
        raise KenmapError(f"基準日 {t1} の5年前（±半年）の人口がありません（取り込まれている"
                          f"基準日: {'、'.join(real)}）", field="--layer")
    t0 = real[int(np.argmin(gap))]
    base_year = date.fromisoformat(t1).year
    if step <= 0 or step % 5:
        raise KenmapError("--step は5の倍数の年数にしてください（推計は5年ずつ進みます）",
                          field="--step")
    if to <= base_year:
        raise KenmapError(f"推計の年 {to} が基準の年 {base_year} より後ではありません",
                          field="--to")
    if to > base_year + 100 or (to - base_year) % 5:
        raise KenmapError(f"推計の年は基準の年 {base_year} から5年刻みで100年以内にしてください"
                          f"（{base_year + 5}、{base_year + 10} …）", field="--to")
    then = ws.read_table(snapshot_table(layer, t0)).set_index("code")
    now = ws.read_table(snapshot_table(layer, t1)).set_index("code")
    bands = band_columns([str(c) for c in now.columns])
    if band_columns([str(c) for c in then.columns]) != bands:
        raise KenmapError(f"{t0} と {t1} の年齢階級が違います（推計には同じ5歳階級が必要です）")
    negative = [(c, d) for d, frame in ((t0, then), (t1, now)) for c in bands
                if (frame[c] < 0).any()]
    if negative:
        raise KenmapError(f"{negative[0][1]} の人口に負の人数があります（{negative[0][0]}）")
    codes = now.index.astype(str).tolist()
    p1 = now[bands].to_numpy(dtype=float)
    p0 = then.reindex(now.index)[bands].to_numpy(dtype=float)
    missing_then = int(np.isnan(p0).all(axis=1).sum())
    steps = (to - base_year) // 5
    result = project_bands(p0, p1, steps)
    years = [_years_later(t1, 5 * (i + 1)) for i in range(steps)]
    wanted = {y for y in range(base_year + step, to + 1, step)} | {to}
    targets = read_official(official, _city_code(ws)) if official is not None else {}
    report = Report(f"{ws.scheme.layer(layer).label}の人口を{to}年まで推計しました")
    report.notes.append(
        f"コーホート変化率法: {t0} → {t1} の変化率で{ws.scheme.layer(layer).label}"
        f"{len(codes)}区域を{to}年まで推計（0～4歳は15～49歳の男女計に対する比。年齢別の"
        "性別がないため）")
    if result.fallback:
        report.notes.append(f"基数が{MIN_BASE:.0f}人未満の変化率 {result.fallback}件は市全体の"
                            "変化率を使いました")
    if result.capped:
        report.warnings.append(f"変化率 {result.capped}件が {RATIO_CAP} を超えたため {RATIO_CAP} "
                               "にしました")
    if missing_then:
        report.warnings.append(f"{t0} の人口がない {missing_then}区域は市全体の変化率で推計"
                               "しました")
    stored: list[tuple[str, pd.DataFrame, dict[str, Any]]] = []
    for day, bands_now in zip(years, result.steps, strict=True):
        year = int(day[:4])
        if year not in wanted:
            continue
        p65_cols = [i for i in range(len(bands)) if 5 * i >= 65]
        p75_cols = [i for i in range(len(bands)) if 5 * i >= 75]
        values = bands_now.copy()
        scaled = None
        if targets:
            if year not in targets:
                report.warnings.append(f"{year}年の公式推計がないため、その年は合わせていません")
            else:
                total, p65 = targets[year]
                young = [i for i in range(len(bands)) if i not in p65_cols]
                have65, have_young = values[:, p65_cols].sum(), values[:, young].sum()
                f65 = p65 / have65 if have65 > 0 else 0.0
                fy = (total - p65) / have_young if have_young > 0 else 0.0
                values[:, p65_cols] *= f65
                values[:, young] *= fy
                scaled = (f65, fy)
                result.scaled[day] = scaled
        frame = pd.DataFrame(values, columns=bands)
        frame.insert(0, "code", codes)
        frame.insert(1, "total", values.sum(axis=1))
        frame.insert(2, "pop65", values[:, p65_cols].sum(axis=1))
        frame.insert(3, "pop75", values[:, p75_cols].sum(axis=1))
        frame.insert(4, "households", np.nan)
        frame["missing"] = 0
        facts = {"source": f"推計（コーホート変化率法、{t0}→{t1}）"
                           + ("、公式推計に合わせた値" if scaled else ""),
                 "as_of": day, "estimate": True, "method": "cohort change ratio",
                 "base": [t0, t1], "scaled_to": official.name if scaled and official else None,
                 "figures": ["total", "pop65", "pop75"]}
        stored.append((day, frame, facts))
        report.facts.setdefault("years", []).append(
            {"as_of": day, "total": float(frame["total"].sum()),
             "pop65": float(frame["pop65"].sum()), "scaled": scaled is not None})
    with ws.transaction() as tx:
        kept_meta = {k: dict(v) for k, v in (tx.get(SNAPSHOTS, {}) or {}).items()}
        for day, frame, facts in stored:
            tx.write_table(snapshot_table(layer, day), frame)
            kept_meta.setdefault(layer, {})[day] = facts
        tx.put(SNAPSHOTS, kept_meta)
        tx.record("project", layer=layer, base=[t0, t1], to=to,
                  official=str(official) if official else None)
    report.facts.update({"layer": layer, "base": [t0, t1], "to": to})
    return report


def _city_code(ws: Workspace) -> str | None:
    top = filled_layers(ws)[0]
    codes = ws.read_attributes(top)["code"].dropna().astype(str).tolist()
    return codes[0] if len(codes) == 1 else None
