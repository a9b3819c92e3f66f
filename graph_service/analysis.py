"""The analyses' rules, made from settings once at the edge and handed to `queries/`.

`queries/` never reads settings itself (it can be driven from a notebook with its own rules); the
CLI and the API build these from the one `Settings` object.
"""

from __future__ import annotations

from graph_service.settings import Settings
from queries.links import DEFAULT_WEIGHTS, LinkRules
from queries.supernodes import SupernodeRules


def supernode_rules(settings: Settings) -> SupernodeRules:
    return SupernodeRules(min_degree=settings.supernode_min_degree,
                          spread_min_degree=settings.supernode_spread_min_degree,
                          spread_min_providers=settings.supernode_spread_min_providers,
                          spread_min_days=settings.supernode_spread_min_days)


def link_rules(settings: Settings) -> LinkRules:
    unknown = sorted(set(settings.link_weights) - set(DEFAULT_WEIGHTS))
    if unknown:
        raise ValueError(f"GRACEGRAPH_LINK_WEIGHTS names unknown evidence kinds {unknown}; "
                         f"known: {', '.join(DEFAULT_WEIGHTS)}")
    return LinkRules(window_s=settings.cousage_window_s, min_score=settings.link_min_score,
                     rarity_exponent=settings.link_rarity_exponent,
                     weights={**DEFAULT_WEIGHTS, **settings.link_weights},
                     device_cousage_required=settings.device_cousage_required,
                     max_holders=settings.supernode_min_degree)
