"""Every setting is documented: a setting nobody can find is a setting nobody can use."""

from __future__ import annotations

from pathlib import Path

from graph_service.settings import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def env_names(name: str) -> set[str]:
    field = Settings.model_fields[name]
    alias = field.validation_alias
    if alias is not None:
        return {str(choice) for choice in alias.choices}  # type: ignore[union-attr]
    return {f"GRACEGRAPH_{name.upper()}"}


def test_every_setting_is_described_in_docs() -> None:
    text = DOCS.read_text()
    missing = [name for name in Settings.model_fields
               if not any(f"`{env}`" in text for env in env_names(name))]
    assert missing == []


def test_neo4j_variables_keep_their_usual_names(monkeypatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j://cluster.example:7687")
    monkeypatch.setenv("GRACEGRAPH_NEO4J_PORT", "7999")
    settings = Settings()
    assert settings.bolt_uri == "neo4j://cluster.example:7687"
    assert not settings.uses_local_neo4j
    assert settings.neo4j_port == 7999
