"""A GIS officer imports the real e-Stat boundary file through the workbench's wizard into an
empty workspace, picks a wrong field, reads why next to it, fixes it, sees the dry run, commits
and finds the import in the history and the areas on the map. Needs the wizard's endpoints;
skipped on a branch without them (the empty workspace's first screen is checked anyway)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import ESTAT
from workbench_helpers import LAPTOP, Bench, serving


def estat_zip(folder: Path) -> Path:
    """The e-Stat shapefile as a GIS officer sends it: its parts in one zip."""
    out = folder / "31-tottori-all.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            part = ESTAT.with_suffix(suffix)
            zf.write(part, part.name)
    return out


def test_gis_officer_imports_estat_areas(chromium: Any, real_data: Path, tmp_path: Path) -> None:
    from kenmap.model.scheme import PRESETS
    from kenmap.workspace import Workspace

    workspace = Workspace.create(tmp_path / "yonago.gpkg", PRESETS["yonago"]).path
    with serving(workspace, tmp_path, token=True) as server:
        context = chromium.new_context(viewport=LAPTOP, locale="ja-JP")
        bench = Bench(context, server)
        p = bench.open()
        try:
            bench.sign_in_with_token()
            # An empty workspace says where to start instead of drawing nothing.
            assert "データの取り込み" in p.inner_text("#km-summary")
            bench.shot("empty_workspace")
            if not server.has("POST", "/api/wizard/uploads"):
                pytest.skip("the import wizard's endpoints are not on this branch yet")

            p.click(".km-tab[data-screen=wizard]")
            p.wait_for_selector(".km-wizard form")
            bench.shot("wizard_upload")
            p.check("input[name=kind][value=areas]")
            p.set_input_files(".km-wizard input[type=file]", str(estat_zip(tmp_path)))
            p.click(".km-wizard button[type=submit]")
            p.wait_for_selector(".km-options", timeout=120_000)
            detected = p.inner_text(".km-wizard")
            assert "cp932" in detected.lower() or "shift" in detected.lower()
            assert "4612" in detected and "KEY_CODE" in detected and "MOJI" in detected
            bench.shot("wizard_detected")

            # A wrong choice: CITY repeats in every row of a city. Refused next to it.
            form = p.locator(".km-options")
            form.locator("[name=layer]").select_option("jichikai")
            form.locator("[name=code_field]").select_option("CITY")
            form.locator("[name=name_field]").select_option("MOJI")
            form.locator("[name=where]").fill("CITY == '202'")
            form.locator("button[type=submit]").click()
            error = form.locator("[data-error-for=code_field]")
            error.wait_for(state="visible", timeout=120_000)
            assert error.inner_text().strip()
            bench.shot("wizard_wrong_field")
            layers = server.api("GET", "/api/layers").json()["layers"]
            assert all(layer["count"] == 0 for layer in layers)  # nothing written

            form.locator("[name=code_field]").select_option("KEY_CODE")
            form.locator("button[type=submit]").click()
            p.wait_for_selector(".km-report", timeout=120_000)
            assert "258" in p.inner_text(".km-report")
            bench.shot("wizard_dry_run")
            layers = server.api("GET", "/api/layers").json()["layers"]
            assert all(layer["count"] == 0 for layer in layers)  # a dry run writes nothing

            p.click("text=この内容で取り込む")
            p.wait_for_selector(".km-steps .km-current >> text=取り込み完了", timeout=120_000)
            p.wait_for_selector(".km-wizard table >> text=31-tottori-all")
            bench.shot("wizard_done")
            layers = {layer["key"]: layer["count"] for layer in
                      server.api("GET", "/api/layers").json()["layers"]}
            assert layers["jichikai"] == 258

            # Back on the map: the new layer is there and drawn.
            p.click("text=地図を見る")
            p.wait_for_function("() => window.kenmap.areaMap.current && "
                                "window.kenmap.areaMap.current.features.length === 258",
                                timeout=120_000)
            # No population yet: the map says what is missing instead of gaps.
            p.wait_for_function("() => !document.querySelector('#km-summary')"
                                ".textContent.includes('まだ区域がありません')")
            bench.shot("map_after_import")
            assert bench.errors == [] and bench.dialogs == [] and bench.remote() == []
        finally:
            context.close()
