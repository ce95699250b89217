"""The import wizard's steps, apart from HTTP: the options of each import, detection, the
import itself, the dry run on a throw-away copy, the commit and its entry in the history.

Option names are those of ``kenmap import areas|population|hubs`` with underscores; errors
name the option at fault (``field: "code_field"``) so a form can show the message beside it,
and the importers' sentences speak of the options by those names.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kenmap.api.staging import Staged
from kenmap.api.views import Views
from kenmap.errors import KenmapError
from kenmap.model import settings
from kenmap.model.report import Report
from kenmap.workspace import Workspace

#: The workspace history's actions of the imports, by kind.
IMPORT_ACTIONS = {"import areas": "areas", "import population": "population",
                  "import hubs": "hubs"}
#: The edit-log action of an import made through the wizard.
LOG_ACTION = "import"
_Name = Annotated[str | None, Field(default=None, min_length=1, max_length=200)]
_Text = Annotated[str | None, Field(default=None, max_length=500)]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class AreaOptions(_Options):
    """The options of ``kenmap import areas``."""

    layer: str = Field(min_length=1, max_length=60)
    code_field: str = Field(min_length=1, max_length=200)
    name_field: str = Field(min_length=1, max_length=200)
    parent_field: _Name = None
    encoding: str | None = Field(default=None, max_length=40)
    crs: str | None = Field(default=None, max_length=200)
    where: _Text = None
    zone: str | None = Field(default=None, max_length=20)
    keep_water: bool = False
    append: bool = False
    tolerance: float = Field(default=settings.NESTING_TOLERANCE, ge=0, le=1)
    layer_name: _Name = None
    source: _Text = None


class PopulationOptions(_Options):
    """The options of ``kenmap import population`` (one of code_field and name_field)."""

    layer: str = Field(min_length=1, max_length=60)
    code_field: _Name = None
    name_field: _Name = None
    parent_name_field: _Name = None
    total_field: _Name = None
    pop65_field: _Name = None
    pop75_field: _Name = None
    households_field: _Name = None
    encoding: str | None = Field(default=None, max_length=40)
    header_rows: int = Field(default=1, ge=1, le=10)
    as_of: str | None = Field(default=None, max_length=20)
    source: _Text = None
    where: _Text = None


class TypeRule(_Options):
    """One row of a type map: rows whose type field is (or contains …) ``value`` get
    ``type``."""

    value: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=60)
    match: Literal["exact", "contains", "prefix", "suffix"] = "exact"


class HubOptions(_Options):
    """The options of ``kenmap import hubs``; ``type_map`` given as rules, not a file."""

    type: str | None = Field(default=None, min_length=1, max_length=60)
    type_field: _Name = None
    type_map: list[TypeRule] | None = Field(default=None, max_length=200)
    name_field: _Name = None
    lon_field: _Name = None
    lat_field: _Name = None
    x_field: _Name = None
    y_field: _Name = None
    crs: str | None = Field(default=None, max_length=200)
    status: Literal["existing", "planned", "candidate"] = "existing"
    encoding: str | None = Field(default=None, max_length=40)
    replace: bool = False
    source: _Text = None


OPTIONS: dict[str, type[_Options]] = {"areas": AreaOptions, "population": PopulationOptions,
                                      "hubs": HubOptions}


class DetectOptions(_Options):
    """What the detection may be told (a file that is not UTF-8 nor cp932, a file without a
    CRS, one layer of several, a table with two header rows)."""

    encoding: str | None = Field(default=None, max_length=40)
    crs: str | None = Field(default=None, max_length=200)
    layer_name: _Name = None
    header_rows: int = Field(default=1, ge=1, le=10)


#: What a dry run or commit takes, for the API's documentation.
OPTIONS_HELP = "The import's options, by the upload's kind. " + "; ".join(
    f"{kind}: {', '.join(model.model_fields)}" for kind, model in OPTIONS.items()) + \
    " (hubs' type_map: a list of {value, type, match: exact|contains|prefix|suffix})."


class InvalidChoice(KenmapError):
    """A choice that cannot be right whatever the file holds (answered 422)."""

    http_status = 422


# -- errors named by option -------------------------------------------------------------------

#: Every option name of the wizard (the import options and what detection may be told).
OPTION_NAMES = frozenset(name for model in (AreaOptions, PopulationOptions, HubOptions,
                                            DetectOptions) for name in model.model_fields)
_CLI_OPTION = re.compile(r"--([a-z][a-z0-9-]*)")


def wizard_words(text: str) -> str:
    """A message of the importers with their command-line options (``--code-field``) named
    as the wizard names them (``code_field``)."""
    def name(match: re.Match[str]) -> str:
        option = match.group(1).replace("-", "_")
        return option if option in OPTION_NAMES else match.group(0)
    return _CLI_OPTION.sub(name, text)


def _report_words(report: Report) -> dict[str, Any]:
    """The report as JSON, its sentences speaking of the wizard's options."""
    body = report.to_dict()
    body["title"] = wizard_words(body["title"])
    body["notes"] = [wizard_words(n) for n in body["notes"]]
    body["warnings"] = [wizard_words(w) for w in body["warnings"]]
    return body


def _option_error(exc: KenmapError, options: dict[str, Any]) -> KenmapError:
    """The error with ``field`` naming the wizard's option at fault: the CLI option the import
    named (``--code-field``), or the option whose value is the file's field it named, or the
    first option its message speaks of; the message speaks of the options by the wizard's
    names and keeps the file's field it named."""
    field = exc.field
    option: str | None = None
    if field and field.startswith("--"):
        option = field[2:].replace("-", "_")
    elif field:
        option = next((k for k, v in options.items() if isinstance(v, str) and v == field),
                      None)
    if option is None:
        mentioned = (m.replace("-", "_") for m in _CLI_OPTION.findall(exc.message))
        option = next((m for m in mentioned if m in OPTION_NAMES), None)
    message = wizard_words(exc.message)
    if field and option and not field.startswith("--") and field not in message:
        message += f"（項目「{field}」）"
    return type(exc)(message, file=exc.file, row=exc.row, field=option or field)


def validated(kind: str, body: dict[str, Any], scheme_layers: list[str]) -> _Options:
    """The options for ``kind``, checked (unknown names, types, the layer)."""
    try:
        options = OPTIONS[kind].model_validate(body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    layer = getattr(options, "layer", None)
    if layer is not None and layer not in scheme_layers:
        raise InvalidChoice(f"レイヤ「{layer}」は区域体系にありません。使えるレイヤ: "
                            f"{', '.join(scheme_layers)}", field="layer")
    return options


# -- detection, imports, dry runs ---------------------------------------------------------------

def detect(ws: Workspace, staged: Staged, given: DetectOptions) -> dict[str, Any]:
    """What the import of ``staged`` will find, with the options it was told among the
    suggested ones (so the suggestion can be sent back as it is)."""
    try:
        if staged.kind == "areas":
            from kenmap.layers.inspect import inspect_areas

            found = inspect_areas(ws, staged.path, encoding=given.encoding, crs=given.crs,
                                  layer_name=given.layer_name)
            told = {"encoding": given.encoding, "crs": given.crs,
                    "layer_name": given.layer_name}
        elif staged.kind == "population":
            from kenmap.people.inspect import inspect_population

            found = inspect_population(ws, staged.path, encoding=given.encoding,
                                       header_rows=given.header_rows)
            told = {"encoding": given.encoding}
        else:
            from kenmap.hubs.inspect import inspect_hubs

            found = inspect_hubs(ws, staged.path, encoding=given.encoding, crs=given.crs)
            told = {"encoding": given.encoding, "crs": given.crs}
    except KenmapError as exc:
        raise _option_error(exc, given.model_dump()) from None
    found.suggested.update({k: v for k, v in told.items() if v is not None})
    found.crs_note = wizard_words(found.crs_note)
    found.notes = [wizard_words(n) for n in found.notes]
    for fit in found.fits:
        fit.note = wizard_words(fit.note)
    return _scrubbed(found.to_dict(), staged.folder)


def run_import(ws: Workspace, staged: Staged, options: _Options) -> Report:
    """Run the import of ``staged`` on ``ws`` with ``options`` (errors name the option)."""
    values = options.model_dump()
    try:
        if staged.kind == "areas":
            from kenmap.layers.areas import import_areas

            return import_areas(ws, [staged.path], **values)
        if staged.kind == "population":
            from kenmap.people.population import import_population

            return import_population(ws, staged.path, **values)
        from kenmap.hubs.imports import import_hubs

        values["hub_type"] = values.pop("type")
        if values["type_map"]:
            values["type_map"] = _type_map_file(staged.folder, values["type_map"])
        return import_hubs(ws, staged.path, **values)
    except KenmapError as exc:
        raise _option_error(exc, options.model_dump()) from None


def _type_map_file(folder: Path, rules: list[dict[str, str]]) -> Path:
    """The rules as the CSV ``import hubs --type-map`` reads, in the upload's folder (a name
    no upload can have: safe names never start with a dot)."""
    import csv

    path = folder / ".kenmap-type-map.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["value", "type", "match"])
        writer.writeheader()
        writer.writerows(rules)
    return path


def dry_run(views: Views, staged: Staged, options: _Options) -> dict[str, Any]:
    """The import on a copy of the workspace in a private folder, removed afterwards: its
    report and the workspace's counts before and after."""
    from kenmap.people.inspect import workspace_counts

    with tempfile.TemporaryDirectory(prefix="kenmap-dryrun-") as tmp:
        copy = views.workspace().copy_to(Path(tmp) / Path(views.path).name)
        before = workspace_counts(copy)
        layer: str | None = getattr(options, "layer", None)
        old_codes = _codes(copy, layer) if staged.kind == "areas" and layer else None
        report = run_import(copy, staged, options)
        after_ws = Workspace.open(copy.path)
        changes: dict[str, Any] = {"before": before, "after": workspace_counts(after_ws)}
        if old_codes is not None and layer is not None:
            new_codes = _codes(after_ws, layer)
            gone = sorted(old_codes - new_codes)
            changes["codes"] = {"layer": layer, "kept": len(old_codes & new_codes),
                                "added": len(new_codes - old_codes), "removed": len(gone),
                                "removed_sample": gone[:5]}
        body = {"report": _report_words(report), "changes": changes, "would_write": True}
        return _scrubbed(_scrubbed(body, staged.folder), Path(tmp))


def _codes(ws: Workspace, layer: str) -> set[str]:
    if layer not in ws.tables():
        return set()
    return set(ws.read_attributes(layer, ["code"])["code"].astype(str))


def _scrubbed(value: Any, folder: Path) -> Any:
    """``value`` with the server's private folder taken out of every text (files are named by
    their own names)."""
    prefix = f"{folder}/"
    if isinstance(value, str):
        return value.replace(prefix, "").replace(str(folder), "")
    if isinstance(value, dict):
        return {k: _scrubbed(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, folder) for v in value]
    return value


# -- history ------------------------------------------------------------------------------------

def commit(ws: Workspace, staged: Staged, options: _Options, by: str) -> dict[str, Any]:
    """The import on the workspace itself, then its entry in the edit log (who, the file, the
    report). The import is all-or-nothing; the entry follows it in a second, small write."""
    report = run_import(ws, staged, options)
    action = next(a for a, k in IMPORT_ACTIONS.items() if k == staged.kind)
    recorded: dict[str, Any] = next((h for h in reversed(ws.get("history", []) or [])
                                     if h.get("action") == action), {})
    body = _scrubbed(_report_words(report), staged.folder)
    summary = {k: v for k, v in body.items() if k not in ("title", "notes", "warnings")}
    entry = {"kind": staged.kind, "file": staged.file, "layer": summary.get("layer"),
             "by": by, "title": body["title"], "summary": summary, "notes": body["notes"],
             "warnings": body["warnings"], "via": "wizard",
             "recorded": [action, recorded.get("at"), _first_file(recorded)]}
    with ws.edit() as change:
        change.log(LOG_ACTION, **entry)
    entry.pop("recorded")
    return {"report": body, "entry": {"at": recorded.get("at"), **entry}}


def _first_file(recorded: dict[str, Any]) -> str | None:
    """The (first) file an entry of the workspace history names: with the time, it tells
    the wizard's imports (each from a folder of its own) from any other."""
    files = recorded.get("files") or [recorded.get("file")]
    return None if not files or files[0] is None else str(files[0])


def import_history(ws: Workspace, limit: int) -> list[dict[str, Any]]:
    """The workspace's imports, newest first: those made through the wizard (with who made
    them and their report) and the others its history holds (command line, API). They are
    in the order of the workspace history, where every import is recorded as it commits."""
    history = ws.get("history", []) or []
    position = {(h.get("action"), h.get("at"), _first_file(h)): i
                for i, h in enumerate(history)}
    entries: list[tuple[int, dict[str, Any]]] = []
    claimed = set()
    for i, logged in enumerate(ws.read_log((LOG_ACTION,))):
        details = dict(logged["details"])
        recorded = tuple(details.pop("recorded", None) or ())
        claimed.add(recorded)
        at = recorded[1] if len(recorded) == 3 and recorded[1] else logged["at"]
        entries.append((position.get(recorded, len(history) + i), {"at": at, **details}))
    for i, done in enumerate(history):
        kind = IMPORT_ACTIONS.get(str(done.get("action")))
        if kind is None or (done.get("action"), done.get("at"), _first_file(done)) in claimed:
            continue
        files = done.get("files") or [done.get("file")]
        count = done.get("count", done.get("rows"))
        entries.append((i, {
            "at": done.get("at"), "kind": kind,
            "file": ", ".join(PurePath(str(f)).name for f in files if f),
            "layer": done.get("layer"), "by": None, "title": None,
            "summary": {} if count is None else {"count": count},
            "notes": [], "warnings": [], "via": "other"}))
    entries.sort(key=lambda e: e[0], reverse=True)
    return [entry for _, entry in entries[:limit]]
