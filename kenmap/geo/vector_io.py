"""Reading vector files as real Japanese data delivers them.

Shapefiles (also zipped), GeoPackage, GeoJSON and FlatGeobuf. Shapefile DBFs without a ``.cpg``
are read byte-for-byte (latin-1) and decoded here: strict UTF-8 first, then cp932, so a wrong
guess fails loudly instead of producing mojibake. Every row keeps its 1-based position in the
file (``_row``) so errors can name it.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from kenmap.errors import KenmapError
from kenmap.geo.crs import epsg_of, parse_crs
from kenmap.geo.safety import check_geopackage, check_zip

VECTOR_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json", ".topojson", ".fgb"}
ROW = "_row"

#: Limits for zip archives (uploads reuse them): total uncompressed size and expansion ratio.


@dataclass
class VectorSource:
    """What was read from one file: the data and how it was interpreted."""

    path: str
    frame: gpd.GeoDataFrame
    encoding: str
    encoding_detected: bool
    source_epsg: int | None
    notes: list[str] = field(default_factory=list)


def _sidecar(shp: Path, suffix: str) -> Path | None:
    for candidate in shp.parent.glob(shp.stem + ".*"):
        if candidate.suffix.lower() == suffix and candidate.stem == shp.stem:
            return candidate
    return None


def _datasets(path: Path) -> list[tuple[str, str, str | None]]:
    """(GDAL path, display name, .cpg encoding or None) for each dataset in ``path``."""
    if not path.exists():
        raise KenmapError("ファイルが見つかりません", file=path)
    if path.is_dir():
        raise KenmapError("ファイルではなくフォルダです", file=path)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        names = check_zip(path)
        lower = {n.lower(): n for n in names}
        found = []
        for name in names:
            low = name.lower()
            if PurePosixPath(low).suffix not in VECTOR_SUFFIXES or "__macosx" in low:
                continue
            if low.endswith(".gpkg"):
                raise KenmapError(f"「{name}」: zip の中の GeoPackage は読めません。展開して "
                                  ".gpkg そのものを指定してください", file=path)
            cpg: str | None = None
            if low.endswith(".shp"):
                stem = low[:-4]
                for side in (".dbf", ".shx"):
                    if stem + side not in lower:
                        raise KenmapError(f"シェープファイル「{name}」と同じ場所に {side} がありま"
                                          "せん", file=path)
                if stem + ".cpg" in lower:
                    with zipfile.ZipFile(path) as zf:
                        cpg = zf.read(lower[stem + ".cpg"]).decode("ascii", "replace").strip()
            found.append((f"/vsizip/{path.resolve()}/{name}", f"{path.name}/{name}", cpg))
        if not found:
            raise KenmapError("zip の中にシェープファイル, GeoPackage, GeoJSON, "
                              "FlatGeobuf のいずれもありません", file=path)
        return found
    if suffix not in VECTOR_SUFFIXES:
        raise KenmapError(
            "対応していないファイル形式です（.shp, .zip, .gpkg, .geojson, .json, .topojson, "
            ".fgb のいずれか）", file=path)
    cpg = None
    if suffix == ".gpkg":
        check_geopackage(path)
    if suffix == ".shp":
        for side, what in ((".dbf", "属性表"), (".shx", "索引")):
            if _sidecar(path, side) is None:
                raise KenmapError(f"シェープファイルと同じ場所に {side}（{what}）がありません",
                                  file=path)
        cpg_path = _sidecar(path, ".cpg")
        if cpg_path is not None:
            cpg = cpg_path.read_text(encoding="ascii", errors="replace").strip()
    return [(str(path), str(path), cpg)]


def _normalise_encoding(name: str) -> str:
    text = name.strip().lower().replace("_", "-")
    if text in ("shift-jis", "sjis", "shiftjis", "ms932", "windows-31j", "932", "ansi 932"):
        return "cp932"
    if text in ("utf8", "utf-8", "65001"):
        return "utf-8"
    return text


def _decode_strings(
    df: pd.DataFrame, encoding: str | None, display: str
) -> tuple[pd.DataFrame, str, bool]:
    """Decode latin-1-read text columns (and names) into their real encoding."""
    text_cols = [c for c in df.columns if (c != "geometry" and df[c].dtype.kind in ("O", "T"))
                 or str(df[c].dtype) in ("string", "str")]
    raw_values: list[bytes] = []
    for col in text_cols:
        raw_values.extend(
            v.encode("latin-1") for v in df[col].dropna().unique() if isinstance(v, str))
    raw_values.extend(str(c).encode("latin-1") for c in df.columns)
    if encoding is None:
        candidates = ["utf-8", "cp932"]
        chosen = None
        for cand in candidates:
            try:
                for value in raw_values:
                    value.decode(cand)
            except UnicodeDecodeError:
                continue
            chosen = cand
            break
        if chosen is None:
            raise KenmapError(
                "文字コードが UTF-8 でも cp932（Shift_JIS）でもありません。--encoding を指定してく"
                "ださい", file=display)
        detected = True
    else:
        chosen = _normalise_encoding(encoding)
        detected = False
    out = df.copy()
    for col in text_cols:
        series = out[col]
        decoded = []
        for i, value in enumerate(series.to_numpy()):
            if isinstance(value, str):
                try:
                    decoded.append(value.encode("latin-1").decode(chosen))
                except (UnicodeDecodeError, LookupError) as exc:
                    raise KenmapError(
                        f"文字列が {chosen} として正しくありません", file=display,
                        row=int(out[ROW].iloc[i]), field=str(col).encode("latin-1").decode(
                            chosen, "replace")) from exc
            else:
                decoded.append(value)
        out[col] = pd.Series(decoded, index=series.index, dtype=object)
    try:
        out.columns = [c if c in ("geometry", ROW) else str(c).encode("latin-1").decode(chosen)
                       for c in out.columns]
    except (UnicodeDecodeError, LookupError) as exc:
        raise KenmapError(f"項目名が {chosen} として正しくありません", file=display) from exc
    return out, chosen, detected


def _utf8_copy(path: Path, encoding: str | None) -> tuple[Path, str] | None:
    """A GeoJSON/TopoJSON that is not UTF-8 (Shift_JIS files exist, although RFC 7946 says
    UTF-8) as a UTF-8 copy beside it, with the encoding it had; None when it is UTF-8."""
    if path.suffix.lower() not in (".geojson", ".json") or not path.is_file():
        return None
    raw = path.read_bytes()
    chosen = _normalise_encoding(encoding) if encoding else None
    if chosen in (None, "utf-8"):
        try:
            raw.decode("utf-8")
            return None
        except UnicodeDecodeError:
            if chosen == "utf-8":
                raise KenmapError("文字列が UTF-8 として正しくありません。--encoding を指定してくだ"
                                  "さい", file=path) from None
    try:
        text = raw.decode(chosen or "cp932")
    except (UnicodeDecodeError, LookupError) as exc:
        raise KenmapError("文字コードが UTF-8 でも cp932（Shift_JIS）でもありません。--encoding を"
                          "指定してください",
                          file=path) from exc
    import tempfile

    fd, name = tempfile.mkstemp(suffix=path.suffix, prefix=".kenmap-utf8-")
    with open(fd, "w", encoding="utf-8") as out:
        out.write(text)
    return Path(name), chosen or "cp932"


def check_coordinates(frame: gpd.GeoDataFrame, display: str) -> None:
    """Refuse coordinates that are not numbers (NaN, Infinity), and longitude/latitude that
    cannot be: out of range, or swapped (a Japanese file with latitudes of 130°)."""
    import numpy as np
    import shapely

    geoms = frame.geometry.to_numpy()
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        i = int(index[np.argmax(bad)])
        raise KenmapError("座標が数値ではありません（NaN または Infinity）", file=display,
                          row=int(frame[ROW].iloc[i]))
    if frame.crs is None or not frame.crs.is_geographic or len(coords) == 0:
        return
    x, y = coords[:, 0], coords[:, 1]
    japan_swapped = (x > 20) & (x < 46) & (y > 122) & (y < 154)
    if japan_swapped.mean() > 0.5:
        raise KenmapError("経度と緯度が入れ替わっているようです（緯度が約"
                          f"{np.median(y):.0f}°、経度が約{np.median(x):.0f}°）。"
                          "ファイルでは経度を先に書く必要があります", file=display)
    outside = (np.abs(x) > 180) | (np.abs(y) > 90)
    if outside.any():
        i = int(index[np.argmax(outside)])
        raise KenmapError(
            f"ファイルの座標系は {frame.crs.name} ですが、({x[np.argmax(outside)]:.6g},"
            f" {y[np.argmax(outside)]:.6g}) "
            f"のような座標は経度・緯度ではありません: ファイルはおそらく投影座標系です"
            "（--crs で指定してください。例: --crs 6673 や 3857）",
            file=display, row=int(frame[ROW].iloc[i]))


def _choose_layer(layers: Any, wanted: str | None, display: str) -> str:
    """The layer to read: the one named, else the only one, else the only one of polygons."""
    names = [str(name) for name, _ in layers]
    if wanted is not None:
        if wanted not in names:
            raise KenmapError(f"レイヤ「{wanted}」はありません。ファイルにあるレイヤ:"
                              f" {', '.join(names)}",
                              file=display, field="--layer-name")
        return wanted
    if len(names) == 1:
        return names[0]
    polygons = [str(name) for name, kind in layers if "POLYGON" in str(kind).upper()]
    if len(polygons) == 1:
        return polygons[0]
    raise KenmapError(f"ファイルに{len(names)}個のレイヤ（{', '.join(names)}）があります。"
                      "--layer-name で1つ選んでください", file=display, field="--layer-name")


def _plainly_lonlat(frame: gpd.GeoDataFrame, gdal_path: str) -> bool:
    """A GeoJSON/TopoJSON without a CRS whose coordinates all lie in Japan's lon/lat range."""
    if not gdal_path.lower().endswith((".geojson", ".json", ".topojson")) or len(frame) == 0:
        return False
    minx, miny, maxx, maxy = frame.total_bounds
    return bool(120 <= minx and maxx <= 155 and 20 <= miny and maxy <= 47)


def gdal_paths(path: Path) -> list[str]:
    """The GDAL paths of every dataset in a file (a zip may hold several), checked as for
    reading."""
    return [gdal for gdal, _, _ in _datasets(Path(path))]


def read_vector(
    path: str | Path,
    *,
    encoding: str | None = None,
    crs: str | int | None = None,
    require_crs: bool = True,
    layer_name: str | None = None,
) -> list[VectorSource]:
    """Read every dataset in a vector file (a zip may hold several).

    Parameters
    ----------
    path
        A shapefile, zipped shapefile(s), GeoPackage, GeoJSON, TopoJSON or FlatGeobuf.
    layer_name
        The layer (a TopoJSON object, a GeoPackage table, a shapefile in a zip) to read;
        by default the only one, or the only one of polygons.
    encoding
        Text encoding of a shapefile's DBF; detected when None.
    crs
        The CRS to assume; required when the file declares none, and it overrides a ``.prj``.
    require_crs
        False when only the attributes are wanted.
    """
    path = Path(path)
    sources = []
    transcoded = _utf8_copy(path, encoding)
    if transcoded is not None:
        try:
            found = read_vector(transcoded[0], crs=crs, require_crs=require_crs,
                                layer_name=layer_name)
        finally:
            transcoded[0].unlink(missing_ok=True)
        for source in found:
            source.path = str(path)
            source.encoding, source.encoding_detected = transcoded[1], encoding is None
            source.notes.append(f"文字列を {transcoded[1]} として読みました（ファイルは UTF-8 では"
                                "ありません）")
        return found
    datasets = _datasets(path)
    if layer_name is not None and len(datasets) > 1:  # a zip of shapefiles: choose one
        chosen = [d for d in datasets if PurePosixPath(d[1]).stem == layer_name]
        if not chosen:
            names = [PurePosixPath(d[1]).stem for d in datasets]
            raise KenmapError(f"レイヤ「{layer_name}」はありません。ファイルにあるレイヤ:"
                              f" {', '.join(names)}",
                              file=path, field="--layer-name")
        datasets, layer_name = chosen, None
    for gdal_path, display, cpg in datasets:
        is_shp = gdal_path.lower().endswith(".shp")
        raw = is_shp and (encoding is not None or cpg is None)
        try:
            layers = pyogrio.list_layers(gdal_path)
            if len(layers) == 0:
                raise KenmapError("レイヤがありません", file=display)
            frame = pyogrio.read_dataframe(
                gdal_path,
                layer=_choose_layer(layers, layer_name, display),
                encoding="latin1" if raw else (cpg if is_shp else None),
                use_arrow=True,
            )
        except (DataSourceError, DataLayerError) as exc:
            detail = str(exc).split("\n")[0]
            raise KenmapError(f"読み込めるベクタファイルではありません（{detail}）",
                              file=display) from exc
        except UnicodeDecodeError as exc:
            raise KenmapError("文字列を読み取れません。--encoding を指定してください",
                              file=display) from exc
        except KenmapError:
            raise
        except Exception as exc:
            detail = str(exc).split("\n")[0][:120]
            raise KenmapError(f"読み込めるベクタファイルではありません（{detail}）",
                              file=display) from exc
        if not isinstance(frame, gpd.GeoDataFrame) or "geometry" not in frame:
            raise KenmapError("形状がありません", file=display)
        frame[ROW] = range(1, len(frame) + 1)
        notes: list[str] = []
        if raw:
            frame, used, detected = _decode_strings(frame, encoding, display)
            frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=frame.crs)
        else:
            used, detected = (_normalise_encoding(cpg) if cpg else "utf-8"), False
        file_epsg = epsg_of(frame.crs)
        if crs is not None:
            target: CRS = parse_crs(crs)
            if frame.crs is not None and epsg_of(target) != file_epsg:
                notes.append(f"--crs {crs} でファイル自身の座標系 {frame.crs.name} "
                             "を上書きしました")
            frame = frame.set_crs(target, allow_override=True)
        elif frame.crs is None and _plainly_lonlat(frame, gdal_path):
            # RFC 7946: GeoJSON (and TopoJSON) coordinates are longitude/latitude; in Japan's
            # range JGD2011 and WGS84 agree to under a metre.
            frame = frame.set_crs(6668)
            notes.append("ファイルに座標系がありません: 座標が日本の範囲の経度・緯度なので、"
                         "GeoJSON/TopoJSON の定めどおり JGD2011（EPSG:6668）として読みました")
        elif frame.crs is None and require_crs:
            raise KenmapError(
                "座標系がありません（.prj がありません）。--crs を指定してください。"
                "例: JGD2000 の経度・緯度なら --crs 4612", file=display)
        check_coordinates(frame, display)
        sources.append(VectorSource(display, frame, used, detected, epsg_of(frame.crs), notes))
    return sources
