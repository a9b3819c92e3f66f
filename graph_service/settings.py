"""Every setting in one object, read once from the environment at the edge and passed down.

Neo4j's own variables (`NEO4J_URI`, `NEO4J_USER`, `NEO4J_PASSWORD`, `NEO4J_DATABASE`) keep their
usual names so that a server set up for other tools is used as it is; everything else of ours is
`GRACEGRAPH_*`. Each setting is described in docs/settings.md (a test keeps the two in step).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRACEGRAPH_", extra="ignore", populate_by_name=True)

    neo4j_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_URI", "GRACEGRAPH_NEO4J_URI"))
    neo4j_user: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_USER", "GRACEGRAPH_NEO4J_USER"))
    neo4j_password: str = Field(
        default="", validation_alias=AliasChoices("NEO4J_PASSWORD", "GRACEGRAPH_NEO4J_PASSWORD"))
    neo4j_database: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_DATABASE", "GRACEGRAPH_NEO4J_DATABASE"))

    home: Path = Path(".gracegraph")
    neo4j_port: int = 7687
    neo4j_heap: str = "4g"
    neo4j_pagecache: str = "4g"
    neo4j_start_timeout_s: float = 300.0
    neo4j_gds: bool = False

    default_region: str = "US"
    batch_size: int = 20_000
    query_timeout_s: float = 30.0

    max_query_depth: int = 8
    max_aliases: int = 15
    max_tokens: int = 2000
    graphiql: bool = True
    introspection: bool = True
    log_level: str = "INFO"

    # Priorities (queries/prioritisation.py, docs/analysis.md): weights of a score's parts.
    priority_weights: dict[str, float] = Field(default_factory=dict)
    priority_recency_half_life_days: float = 180.0
    community_algorithm: str = "leiden"
    community_quality: str = "cpm"
    community_resolution: float = 0.05
    community_seed: int = 42
    community_engine: str = "auto"
    community_min_size: int = 2
    community_projection: str = "shared-identifiers"
    community_window_s: int = 3600
    community_max_degree: int = 50
    community_excluded_ip_kinds: list[str] = ["cgnat", "private"]
    community_timeout_s: float = 900.0
    audit_log: Path | None = None
    # Access (graph_service/auth.py, docs/security.md): who may ask, how often.
    auth_db: Path | None = None
    secret_key: SecretStr | None = None
    rate_limit_per_minute: float = 600.0
    rate_limit_burst: int = 120
    audit_document_chars: int = 4000
    chromium: Path = Path("/usr/bin/chromium")
    # Entity resolution (queries/resolution.py; docs/resolution.md explains each one).
    resolution_threshold: float = 0.9
    resolution_auto_accept: float = 0.999
    resolution_allow_auto_accept: bool = False
    resolution_max_block: int = 100
    resolution_device_max_accounts: int = 10
    resolution_ip_max_accounts: int = 20
    resolution_ip_window_s: float = 3600.0
    resolution_weight_email: float = 8.0
    resolution_weight_phone: float = 7.0
    resolution_weight_device: float = 5.0
    resolution_weight_provider: float = 7.0
    resolution_use_em: bool = True
    resolution_u_sample: int = 300_000
    resolution_seed: int = 0
    resolution_workers: int = 1
    # Supernodes (queries/supernodes.py): addresses, devices and files too widely shared to be evidence.
    supernode_min_degree: int = 50
    supernode_spread_min_degree: int = 10
    supernode_spread_min_providers: int = 5
    supernode_spread_min_days: int = 180

    # Links (queries/links.py, docs/analysis.md): co-use window and the score's weights.
    cousage_window_s: int = 3600
    device_cousage_required: bool = False
    link_min_score: float = 0.1
    link_rarity_exponent: float = 0.5
    link_weights: dict[str, float] = Field(default_factory=dict)

    # Federation (graph_service/federation/, docs/federation.md): deconfliction between instances.
    federation_dir: Path | None = None
    federation_mode: str = "oblivious"
    federation_hmac_key: Path | None = None
    federation_ip_bucket_s: int = 3600
    federation_excluded_ip_kinds: list[str] = ["private"]
    federation_max_skew_s: float = 300.0
    federation_rate_limit: int = 2_000_000
    federation_rate_window_s: int = 86_400
    federation_max_values: int = 50_000
    federation_timeout_s: float = 300.0

    @property
    def uses_local_neo4j(self) -> bool:
        """True when no external server was named, so commands start our own."""
        return not self.neo4j_uri

    @property
    def audit_path(self) -> Path:
        """The audit log's file: `audit_log` when set, else `audit.jsonl` under `home`."""
        return self.audit_log or self.home / "audit.jsonl"

    @property
    def auth_path(self) -> Path:
        """The users-and-tokens file: `auth_db` when set, else `auth.sqlite3` under `home`."""
        return self.auth_db or self.home / "auth.sqlite3"

    @property
    def federation_path(self) -> Path:
        """Where the federation identity, peers.yaml and the local store live."""
        return self.federation_dir or self.home / "federation"

    @property
    def federation_hmac_path(self) -> Path:
        return self.federation_hmac_key or self.federation_path / "hmac.key"

    @property
    def bolt_uri(self) -> str:
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.neo4j_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
