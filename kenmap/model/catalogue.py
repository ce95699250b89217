"""The hub type catalogue: サロン, 居場所, 地域包括支援センター … and where each is expected."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from kenmap.errors import KenmapError
from kenmap.model.files import read_toml

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class HubType:
    """One kind of hub.

    ``expected`` maps a scheme preset (``toyooka``, ``yonago``, or ``*`` for any scheme) to the
    layer on which every area should have one; ``radius_m`` is the walking radius used when
    reach is measured by distance.
    """

    key: str
    label: str
    colour: str
    icon: str
    expected: dict[str, str] = field(default_factory=dict)
    radius_m: float | None = None

    def expected_layer(self, scheme_keys: list[str], preset: str | None) -> str | None:
        """The layer this type is expected on in a workspace's scheme, if any."""
        for candidate in (preset, "*"):
            if candidate and candidate in self.expected:
                layer = self.expected[candidate]
                return layer if layer in scheme_keys else None
        return None

    def to_dict(self) -> dict[str, Any]:
        """The type as a plain mapping (how the workspace stores it)."""
        return asdict(self)


DEFAULT_TYPES: tuple[HubType, ...] = (
    HubType("salon", "サロン", "#e6550d", "coffee",
            {"toyooka": "gyoseiku", "yonago": "jichikai"}, 500.0),
    HubType("ibasho", "居場所", "#31a354", "home", {}, 500.0),
    HubType("fukushi_plaza", "ふくしプラザ", "#d62728", "heart", {}, 1000.0),
    HubType("hokatsu", "地域包括支援センター", "#3182bd", "plus-square",
            {"toyooka": "kyushicho", "yonago": "nichijo"}, None),
    HubType("chiku_kyoten", "地区拠点/コミュニティセンター", "#756bb1", "users",
            {"toyooka": "chiku", "yonago": "kominkan"}, 2000.0),
    HubType("kominkan", "公民館", "#8c6d31", "university", {"yonago": "kominkan"}, None),
    HubType("shukaijo", "集会所", "#636363", "building", {}, None),
)


def _parse_type(data: dict[str, Any], *, source: str, row: int | None = None) -> HubType:
    key = data.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise KenmapError(f"拠点の種類のキー {key!r} は半角の英小文字・数字・_（a-z, 0-9, _）でなけ"
                          "ればなりません",
                          file=source, row=row, field="key")
    label = data.get("label")
    if not isinstance(label, str) or not label.strip():
        raise KenmapError("拠点の種類には label が必要です", file=source, row=row, field="label")
    colour = data.get("colour", "#555555")
    if not isinstance(colour, str) or not _COLOUR.match(colour):
        raise KenmapError(f"colour {colour!r} は #1f77b4 のような形にしてください",
                          file=source, row=row,
                          field="colour")
    radius = data.get("radius_m")
    if radius is not None and (not isinstance(radius, (int, float)) or radius <= 0):
        raise KenmapError("radius_m は正のメートル数でなければなりません", file=source, row=row,
                          field="radius_m")
    expected = data.get("expected", {})
    if isinstance(expected, str):
        expected = {"*": expected}
    if not isinstance(expected, dict):
        raise KenmapError("expected はレイヤのキーか、preset = layer の表でなければなりません",
                          file=source, row=row, field="expected")
    return HubType(key, label.strip(), colour, str(data.get("icon", "circle")),
                   {str(k): str(v) for k, v in expected.items()},
                   float(radius) if radius is not None else None)


class Catalogue:
    """The hub types of one workspace."""

    def __init__(self, types: list[HubType]) -> None:
        self.types = {t.key: t for t in types}

    @classmethod
    def default(cls) -> Catalogue:
        """The built-in types (:data:`DEFAULT_TYPES`)."""
        return cls(list(DEFAULT_TYPES))

    @classmethod
    def from_list(cls, data: list[dict[str, Any]]) -> Catalogue:
        """A catalogue from its stored form (:meth:`to_list`), each type checked."""
        return cls([_parse_type(d, source="workspace") for d in data])

    def to_list(self) -> list[dict[str, Any]]:
        """The types as plain mappings, for the workspace metadata."""
        return [t.to_dict() for t in self.types.values()]

    def key_of(self, name: str, option: str = "--hub-type") -> str:
        """The key of the hub type called ``name``: its key or its Japanese label (NFKC), e.g.
        ``公民館`` for ``kominkan``."""
        import unicodedata

        wanted = unicodedata.normalize("NFKC", name).strip()
        for hub_type in self.types.values():
            if hub_type.key == name or unicodedata.normalize("NFKC", hub_type.label) == wanted:
                return hub_type.key
        labels = ", ".join(f"{t.key} ({t.label})" for t in self.types.values())
        raise KenmapError(f"拠点の種類「{name}」は登録されていません。登録済みの種類: {labels}",
                          field=option)

    def get(self, key: str) -> HubType:
        """The type with this key, or a clear error listing the known keys."""
        if key not in self.types:
            raise KenmapError(f"拠点の種類「{key}」は登録されていません。登録済みの種類: "
                              f"{', '.join(self.types)}", field="--type")
        return self.types[key]

    def add(self, data: dict[str, Any]) -> HubType:
        """Add a new type (``kenmap types add``); an existing key is refused."""
        hub_type = _parse_type(data, source="kenmap types add")
        if hub_type.key in self.types:
            raise KenmapError(f"拠点の種類「{hub_type.key}」はすでにあります。'types set' を使って"
                              "ください")
        self.types[hub_type.key] = hub_type
        return hub_type

    def set(self, key: str, changes: dict[str, Any]) -> HubType:
        """Change fields of a type (``kenmap types set``); None values leave a field as is."""
        current = self.get(key)
        merged = {**current.to_dict(), **{k: v for k, v in changes.items() if v is not None}}
        updated = _parse_type(merged, source="kenmap types set")
        self.types[key] = replace(updated, key=key)
        return self.types[key]

    def put(self, key: str, data: dict[str, Any], source: str = "catalogue") -> HubType:
        """Replace every field of the existing type ``key`` with ``data`` (checked; a missing
        ``radius_m`` means none)."""
        self.get(key)
        updated = _parse_type({**data, "key": key}, source=source)
        self.types[key] = updated
        return updated

    def remove(self, key: str) -> HubType:
        """Remove the type ``key`` (the caller checks that no hub uses it)."""
        return self.types.pop(self.get(key).key)

    def load_toml(self, path: Path) -> list[HubType]:
        """Add or replace types from a TOML file of ``[[types]]`` tables."""
        data = read_toml(path)
        entries = data.get("types")
        if not isinstance(entries, list) or not entries:
            raise KenmapError("[[types]] の表が必要です", file=path, field="types")
        loaded = [_parse_type(e, source=str(path), row=i) for i, e in enumerate(entries, 1)]
        for hub_type in loaded:
            self.types[hub_type.key] = hub_type
        return loaded


def catalogue_of(meta_value: list[dict[str, Any]] | None) -> Catalogue:
    """The catalogue stored in a workspace (the defaults when none was stored)."""
    return Catalogue.from_list(meta_value) if meta_value else Catalogue.default()
