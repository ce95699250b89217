"""Property-based run of schemathesis against the app's own OpenAPI schema (offline, bounded).

Every generated request — valid or not, with the write token — must get a documented answer
that matches the schema, and never a 5xx. (schemathesis' pytest plugin does not run under
this pytest, so the operations are driven with Hypothesis directly.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

TOKEN = "kenmap-schema-token-0123456789"
EXAMPLES = 12


@pytest.fixture(scope="module")
def api_schema(demo_master: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> schemathesis.BaseSchema:
    from kenmap.api.app import create_app

    tmp = tmp_path_factory.mktemp("schema")
    work = tmp / "work.gpkg"
    shutil.copy(demo_master, work)
    app = create_app(work, token=TOKEN, max_upload=2_000_000)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_every_operation_conforms(api_schema: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=3 if _drawn(operation.path) else EXAMPLES, deadline=None,
                  derandomize=True, database=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            # Writes may refuse schema-valid data (a file that is not a shapefile, a hub
            # outside the city): what they may never do is fail or break their schema. So may
            # area sheets of a whole layer past the server's page limit (413: choose codes).
            bounded = case.path == "/api/downloads/sheets.pdf"
            excluded = [positive_data_acceptance] if case.method != "GET" or bounded else []
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"},
                                   excluded_checks=excluded,
                                   **({"timeout": 300} if _drawn(case.path) else {}))

        check()


def _drawn(path: str) -> bool:
    """Drawn downloads (PDFs, pages) take seconds each, up to half a minute for the 2,795
    隣近所 on a busy machine: fewer examples, and time to answer."""
    return path.startswith("/api/downloads/") and path.endswith((".pdf", ".html"))
