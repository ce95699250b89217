"""The house: a workspace read once, caches keyed by their inputs, edits as SQLite transactions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT, digest

import kenmap


def _fresh_caches() -> None:
    """Forget what this process computed, as a new process would."""
    from kenmap.access import demand, reach
    from kenmap.people import stats

    demand.clear_cache()
    reach._NEAREST.clear()
    stats._COUNTS.clear()


def test_nothing_outside_storage_opens_the_workspace_file() -> None:
    offenders = []
    for path in (ROOT / "kenmap").rglob("*.py"):
        rel = path.relative_to(ROOT / "kenmap").as_posix()
        if rel.startswith(("workspace/", "geo/")):
            continue  # storage itself; geo reads the user's input files, never the workspace
        text = path.read_text(encoding="utf-8")
        if re.search(r"\b(pyogrio|sqlite3)\b", text):
            offenders.append(rel)
    assert offenders == []


def test_coverage_reads_each_table_once(demo_copy_ws: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    import pyogrio

    from kenmap.access.gaps import coverage

    _fresh_caches()
    reads: Counter[str] = Counter()
    real = pyogrio.read_dataframe

    def counting(path: Any, *args: Any, **kwargs: Any) -> Any:
        reads[str(kwargs.get("layer"))] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pyogrio, "read_dataframe", counting)
    ws = kenmap.open_workspace(demo_copy_ws)
    result = coverage(ws)
    assert result["types"]["salon"]["hubs"] == 276
    assert reads and max(reads.values()) == 1, reads


def test_demand_survives_a_hub_edit_and_a_new_process(demo_copy_ws: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from kenmap.access import demand as demand_module
    from kenmap.hubs.edits import add_hub
    from kenmap.workspace import store_all_kept

    _fresh_caches()
    ws = kenmap.open_workspace(demo_copy_ws)
    first = demand_module.demand_cells(ws)
    store_all_kept()  # what the command line does when a command succeeded

    def no_rebuild(*_: Any) -> Any:
        raise AssertionError("demand cells were rebuilt")

    monkeypatch.setattr(demand_module, "_build", no_rebuild)
    add_hub(kenmap.open_workspace(demo_copy_ws),
            {"type": "salon", "name": "新サロン", "lon": 134.82, "lat": 35.54})
    assert demand_module.demand_cells(kenmap.open_workspace(demo_copy_ws)) is first
    _fresh_caches()  # a new process: the cells come from the workspace, not from a rebuild
    again = demand_module.demand_cells(kenmap.open_workspace(demo_copy_ws))
    assert again is not first
    np.testing.assert_array_equal(again.x, first.x)
    np.testing.assert_array_equal(again.pop65, first.pop65)
    for layer, codes in first.codes.items():
        assert list(again.codes[layer]) == list(codes), layer


def test_stored_demand_is_rebuilt_when_population_changes(demo_copy_ws: Path) -> None:
    from kenmap.access.demand import demand_cells
    from kenmap.people.population import table_name
    from kenmap.workspace import store_all_kept

    _fresh_caches()
    ws = kenmap.open_workspace(demo_copy_ws)
    before = demand_cells(ws)
    store_all_kept()
    table = table_name(before.layer)
    pop = ws.read_table(table)
    pop["pop65"] = pop["pop65"] * 2
    with ws.transaction() as tx:
        tx.write_table(table, pop)
    _fresh_caches()
    after = demand_cells(kenmap.open_workspace(demo_copy_ws))
    assert np.nansum(after.pop65) == pytest.approx(2 * np.nansum(before.pop65))


@pytest.mark.parametrize("change", ["add", "move", "remove", "swap"])
def test_incremental_nearest_equals_a_full_search(change: str) -> None:
    from kenmap.access.demand import Demand
    from kenmap.access.reach import _full, nearest_straight

    rng = np.random.default_rng(7)
    n = 5_000
    demand = Demand("cells", 100.0, rng.uniform(0, 5_000, n), rng.uniform(0, 5_000, n),
                    np.ones(n), np.ones(n), key=("test", change))
    xs, ys = rng.uniform(0, 5_000, 40), rng.uniform(0, 5_000, 40)
    nearest_straight(demand, xs, ys)  # the previous answer, cached
    if change == "add":
        xs, ys = np.r_[xs, 2_500.0], np.r_[ys, 2_500.0]
    elif change == "move":
        xs, ys = xs.copy(), ys.copy()
        xs[3], ys[3] = 100.0, 4_900.0
    elif change == "remove":
        xs, ys = np.delete(xs, [0, 5, 9]), np.delete(ys, [0, 5, 9])
    else:
        xs, ys = np.r_[np.delete(xs, 1), 10.0], np.r_[np.delete(ys, 1), 10.0]
    incremental = nearest_straight(demand, xs, ys)
    full = _full(demand, xs, ys)
    np.testing.assert_allclose(incremental.distance, full.distance, rtol=0, atol=1e-9)
    chosen = np.hypot(demand.x - xs[incremental.hub], demand.y - ys[incremental.hub])
    np.testing.assert_allclose(chosen, full.distance, rtol=0, atol=1e-9)


def test_hub_edit_is_a_transaction_in_place(demo_copy_ws: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from kenmap.hubs.edits import add_hub, delete_hub, update_hub

    inode = os.stat(demo_copy_ws).st_ino

    def no_copy(*_: Any, **__: Any) -> None:
        raise AssertionError("a hub edit copied the workspace")

    monkeypatch.setattr(shutil, "copyfile", no_copy)
    ws = kenmap.open_workspace(demo_copy_ws)
    hub = add_hub(ws, {"type": "salon", "name": "新サロン", "lon": 134.82, "lat": 35.54})
    moved = update_hub(ws, hub["id"], 1, {"lon": 134.821, "name": "移転サロン"})
    assert moved["version"] == 2 and moved["name"] == "移転サロン"
    assert moved["lon"] == pytest.approx(134.821, abs=1e-6)
    assert moved["areas"]["gyoseiku"] is not None
    delete_hub(ws, hub["id"], 2)
    again = add_hub(ws, {"type": "salon", "name": "次のサロン", "lon": 134.82, "lat": 35.54})
    assert again["id"] > hub["id"]  # a deleted hub's id is never given to another
    assert os.stat(demo_copy_ws).st_ino == inode
    monkeypatch.undo()
    assert kenmap.validate(kenmap.open_workspace(demo_copy_ws)).ok


def test_killed_edit_loses_nothing(demo_copy_ws: Path) -> None:
    """A process killed inside an edit leaves the previous state; the next open rolls back."""
    before = kenmap.open_workspace(demo_copy_ws).read_table("hubs")
    script = f"""
import os, signal
import kenmap
ws = kenmap.open_workspace({str(demo_copy_ws)!r})
with ws.edit() as change:
    change.update("hubs", "id", 1, {{"name": "途中で止まった", "version": 99}})
    change.delete("hubs", "id", 2)
    os.kill(os.getpid(), signal.SIGKILL)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=False)
    assert done.returncode == -9
    ws = kenmap.open_workspace(demo_copy_ws)
    after = ws.read_table("hubs")
    assert len(after) == len(before)
    row = after[after["id"] == 1].iloc[0]
    assert row["name"] == before[before["id"] == 1].iloc[0]["name"]
    assert int(row["version"]) == 1
    assert not list(demo_copy_ws.parent.glob("*-journal"))
    assert kenmap.validate(ws).ok


def test_failed_edit_changes_nothing(demo_copy_ws: Path) -> None:
    from kenmap.errors import ConflictError
    from kenmap.hubs.edits import update_hub

    before = digest(demo_copy_ws)
    with pytest.raises(ConflictError):
        update_hub(kenmap.open_workspace(demo_copy_ws), 1, 7, {"name": "古い版からの変更"})
    assert digest(demo_copy_ws) == before


def test_public_api(demo_master: Path) -> None:
    ws = kenmap.open_workspace(demo_master)
    table = kenmap.gaps(ws, layer="gyoseiku", hub_type="salon")
    assert isinstance(table, kenmap.GapTable)
    assert len(table.lacking) == 124  # the demo's 行政区 without a サロン
    data = table.to_json()
    assert data["layer"] == "gyoseiku" and len(data["areas"]) == 359
    figures = kenmap.stats(ws, "kyushicho")
    assert len(figures) == 6 and figures["population"].sum() == 80_000
    assert kenmap.__version__ != "0+unknown"
    with pytest.raises(AttributeError):
        _ = kenmap.no_such_name  # type: ignore[attr-defined]
