"""Layer schemes: the ordered 圏域 layers a municipality plans with."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kenmap.errors import KenmapError
from kenmap.model.files import read_toml

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


@dataclass(frozen=True)
class Layer:
    """One layer of a scheme: ascii key, Japanese label, optional expected count; ``nested``
    False for an overlay (包括 service areas, 第2層 圏域, school districts) that covers the city
    but does not follow the nesting."""

    key: str
    label: str
    expected: int | None = None
    nested: bool = True


@dataclass(frozen=True)
class Scheme:
    """Layers from the top (the whole municipality) down to the finest."""

    name: str
    layers: tuple[Layer, ...]

    @property
    def keys(self) -> list[str]:
        """The keys of the nested layers, from the top down (overlays are apart)."""
        return [layer.key for layer in self.layers if layer.nested]

    @property
    def overlays(self) -> list[str]:
        """The keys of the overlay layers (``nested = false``)."""
        return [layer.key for layer in self.layers if not layer.nested]

    def key_of(self, name: str, option: str = "--layer") -> str:
        """The key of the layer called ``name``: its key or its Japanese label (NFKC, spaces
        ignored), e.g. ``自治会`` for ``jichikai`` when the label is ``近隣・自治会``."""
        import unicodedata

        def norm(text: str) -> str:
            return unicodedata.normalize("NFKC", text).replace(" ", "").replace("　", "")

        wanted = norm(name)
        for layer in self.layers:
            if layer.key == name or norm(layer.label) == wanted:
                return layer.key
        partial = [layer.key for layer in self.layers
                   if wanted and wanted in [norm(p) for p in re.split(r"[・/／]", layer.label)]]
        if len(partial) == 1:
            return partial[0]
        labels = ", ".join(f"{layer.key} ({layer.label})" for layer in self.layers)
        raise KenmapError(f"レイヤ「{name}」はありません。このワークスペースのレイヤ: {labels}",
                          field=option)

    def layer(self, key: str) -> Layer:
        """The layer with this key, or a clear error listing the valid keys."""
        for layer in self.layers:
            if layer.key == key:
                return layer
        every = ", ".join(layer.key for layer in self.layers)
        raise KenmapError(f"レイヤ「{key}」はありません。このワークスペースのレイヤ: {every}",
                          field="--layer")

    def index(self, key: str) -> int:
        """Position of the layer from the top (0), or a clear error for an unknown key."""
        return self.keys.index(self.layer(key).key)

    def to_dict(self) -> dict[str, Any]:
        """The scheme as a plain mapping (how the workspace stores it)."""
        return {"name": self.name, "layers": [asdict(layer) for layer in self.layers]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "scheme") -> Scheme:
        """A scheme from a mapping (stored or from TOML), checked; ``source`` names it in
        errors."""
        name = data.get("name")
        layers = data.get("layers")
        if not isinstance(name, str) or not name.strip():
            raise KenmapError("区域体系には名前が必要です", file=source, field="name")
        if not isinstance(layers, list) or not layers:
            raise KenmapError("区域体系には [[layers]] が1つ以上必要です", file=source,
                              field="layers")
        parsed = []
        for i, entry in enumerate(layers, start=1):
            if not isinstance(entry, dict):
                raise KenmapError("各レイヤはテーブルでなければなりません", file=source, row=i)
            key, label, expected = entry.get("key"), entry.get("label"), entry.get("expected")
            if not isinstance(key, str) or not _KEY.match(key):
                raise KenmapError(
                    f"レイヤのキー {key!r} は英小文字で始まる半角の英小文字・数字・_（a-z, 0-9, _）"
                    "でなければなりません", file=source, row=i, field="key")
            if not isinstance(label, str) or not label.strip():
                raise KenmapError("レイヤには label が必要です", file=source, row=i, field="label")
            if expected is not None and (not isinstance(expected, int) or expected < 1):
                raise KenmapError("expected は正の整数でなければなりません", file=source,
                                  row=i, field="expected")
            nested = entry.get("nested", True)
            if not isinstance(nested, bool):
                raise KenmapError("nested は true か false にしてください", file=source, row=i,
                                  field="nested")
            parsed.append(Layer(key, label, expected, nested))
        keys = [layer.key for layer in parsed]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise KenmapError(f"2回使われているレイヤのキー: {', '.join(dupes)}", file=source)
        if not any(layer.nested for layer in parsed):
            raise KenmapError("入れ子になるレイヤ（nested = false でないもの）が1つ以上必要です",
                              file=source, field="nested")
        return cls(name.strip(), tuple(parsed))


PRESETS: dict[str, Scheme] = {
    "toyooka": Scheme(
        "豊岡型（市・旧市町・地区・行政区・隣近所）",
        (
            Layer("shi", "市", 1),
            Layer("kyushicho", "旧市町", 6),
            Layer("chiku", "地区", 29),
            Layer("gyoseiku", "行政区", 359),
            Layer("tonarikinjo", "隣近所"),
        ),
    ),
    "yonago": Scheme(
        "米子型（市全域・日常生活圏域・公民館区域・近隣）",
        (
            Layer("shi", "市全域", 1),
            Layer("nichijo", "日常生活圏域"),
            Layer("kominkan", "公民館区域"),
            Layer("jichikai", "近隣・自治会"),
        ),
    ),
}


def load_scheme(spec: str | None) -> Scheme:
    """A preset by name (default ``toyooka``) or a scheme TOML file."""
    if spec is None:
        return PRESETS["toyooka"]
    if spec in PRESETS:
        return PRESETS[spec]
    path = Path(spec)
    if path.suffix.lower() != ".toml":
        raise KenmapError(
            f"区域体系「{spec}」はありません: {' か '.join(PRESETS)} か .toml ファイルを指定してく"
            "ださい",
            field="--scheme")
    return Scheme.from_dict(read_toml(path), source=str(path))
