"""The analyses' rules, made from settings once at the edge and handed to `queries/`.

`queries/` never reads settings itself (it can be driven from a notebook with its own rules); the
CLI and the API build these from the one `Settings` object.
"""

from __future__ import annotations

from graph_service.settings import Settings
from queries.supernodes import SupernodeRules


def supernode_rules(settings: Settings) -> SupernodeRules:
    return SupernodeRules(min_degree=settings.supernode_min_degree,
                          spread_min_degree=settings.supernode_spread_min_degree,
                          spread_min_providers=settings.supernode_spread_min_providers,
                          spread_min_days=settings.supernode_spread_min_days)

