"""docs/schema.graphql is the schema the API serves: clients and reviewers read the file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from graph_service.cli import app as cli
from graph_service.graphql import schema_sdl

DOCS_SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "schema.graphql"
CONTRACT_ROOT_FIELDS = ("search", "entity", "neighbourhood", "paths", "sharedIdentifiers", "timeline", "report",
                        "case")


def test_docs_schema_matches_the_live_schema() -> None:
    assert DOCS_SCHEMA.is_file(), "docs/schema.graphql is missing: run `gracegraph schema export`"
    assert DOCS_SCHEMA.read_text(encoding="utf-8") == schema_sdl(), (
        "docs/schema.graphql differs from the schema the API serves: run `gracegraph schema export`")


def test_export_writes_the_live_schema(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "schema.graphql"
    result = CliRunner().invoke(cli, ["schema", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == schema_sdl()


def test_export_to_stdout() -> None:
    result = CliRunner().invoke(cli, ["schema", "export", "--out", "-"])
    assert result.exit_code == 0 and result.output == schema_sdl()


def test_schema_has_the_contract_root_fields() -> None:
    sdl = schema_sdl()
    query = sdl[sdl.index("type Query {"):]
    query = query[:query.index("\n}")]
    for field in CONTRACT_ROOT_FIELDS:
        assert f"\n  {field}(" in query, field
    for scalar in ("scalar JSON", "scalar DateTime"):
        assert scalar in sdl
