"""Changing a workspace's catalogue of hub types (``kenmap types``, the workbench's admin
screen): each change read and written under the workspace lock and recorded in its log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kenmap.errors import ConflictError, KenmapError, NotFoundError
from kenmap.hubs.table import read_hubs
from kenmap.model.catalogue import Catalogue, HubType, catalogue_of
from kenmap.workspace import Workspace


def save_catalogue(ws: Workspace, change: Callable[[Catalogue], object], action: str = "types",
                   **details: Any) -> Catalogue:
    """Apply ``change`` to the stored catalogue and store it, under the lock (a change made
    meanwhile is kept), recording ``action`` with ``details`` in the log."""
    with ws.edit():
        catalogue = catalogue_of(ws.get("hub_types"))
        change(catalogue)
        ws.put("hub_types", catalogue.to_list())
        ws.record(action, count=len(catalogue.types), **details)
    return catalogue


def type_fields(ws: Workspace, data: dict[str, Any], current: HubType | None = None
                ) -> dict[str, Any]:
    """A type's stored fields from the form's (``expected_layer``: the layer of this
    workspace's scheme on which every area should have one, or none); the expectations for
    other schemes are kept."""
    layer = data.get("expected_layer")
    if layer is not None and layer not in ws.scheme.keys:
        raise KenmapError(f"階層「{layer}」はこのワークスペースにありません。使える階層: "
                          f"{', '.join(ws.scheme.keys)}", field="expected_layer")
    preset = ws.get("scheme_preset")
    expected = {k: v for k, v in (current.expected if current else {}).items()
                if k not in ("*", preset)}
    if layer:
        expected[preset or "*"] = layer
    out = {k: v for k, v in data.items() if k != "expected_layer"}
    out["expected"] = expected
    return out


def add_type(ws: Workspace, data: dict[str, Any]) -> HubType:
    """Add a hub type (``key``, ``label``, ``colour``, ``icon``, ``radius_m``,
    ``expected_layer``)."""
    fields = type_fields(ws, data)
    added: list[HubType] = []
    save_catalogue(ws, lambda c: added.append(c.add(fields)), "type_add",
                   key=data.get("key"), label=data.get("label"))
    return added[0]


def _known(catalogue: Catalogue, key: str) -> HubType:
    if key not in catalogue.types:
        raise NotFoundError(f"拠点の種類「{key}」は登録されていません", field="key")
    return catalogue.types[key]


def set_type(ws: Workspace, key: str, data: dict[str, Any]) -> HubType:
    """Replace the fields of the type ``key`` (the log keeps what changed: before, after)."""
    changed: list[HubType] = []
    before: dict[str, Any] = {}

    def change(catalogue: Catalogue) -> None:
        current = _known(catalogue, key)
        before.update(current.to_dict())
        changed.append(catalogue.put(key, type_fields(ws, data, current)))

    with ws.edit():
        catalogue = catalogue_of(ws.get("hub_types"))
        change(catalogue)
        after = changed[0].to_dict()
        diff = {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}
        ws.put("hub_types", catalogue.to_list())
        ws.record("type_update", key=key, changes=diff)
    return changed[0]


def remove_type(ws: Workspace, key: str) -> None:
    """Remove the type ``key``; refused while hubs (of any status) are of that type."""
    with ws.edit():
        catalogue = catalogue_of(ws.get("hub_types"))
        hub_type = _known(catalogue, key)
        hubs = read_hubs(ws)
        used = int((hubs["type"] == key).sum()) if len(hubs) else 0
        if used:
            raise ConflictError(f"「{hub_type.label}」の拠点が {used:,} か所あるため削除できません"
                                "（先に拠点の種類を変えるか削除してください）", field="key")
        if len(catalogue.types) == 1:
            raise KenmapError("最後の種類は削除できません", field="key")
        catalogue.remove(key)
        ws.put("hub_types", catalogue.to_list())
        ws.record("type_remove", key=key, label=hub_type.label)
