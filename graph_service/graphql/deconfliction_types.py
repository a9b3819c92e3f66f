"""GraphQL types of `deconflict`: identifiers in, pointers to other cases out (queries/deconfliction.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from queries import deconfliction as d


@strawberry.input(description="One identifier to check. `kind`: email, phone, ip, device, account, file or person.")
class IdentifierInput:
    kind: str
    value: str = strawberry.field(description="As written; normalised as the loaders do. A person: the name.")
    type: str | None = strawberry.field(default=None, description="Device type, hash algorithm, or an "
                                        "account's provider (then `value` is its user id or @screen name).")
    at: datetime | None = strawberry.field(default=None, description="An IP address's moment of use: only "
                                           "uses within the co-use window count.")
    birth_date: str | None = strawberry.field(default=None, description="With kind person.")

    def to_query(self) -> d.Identifier:
        return d.Identifier(kind=self.kind, value=self.value, type=self.type, at=self.at, birth_date=self.birth_date)


@strawberry.type(description="Another case that contains the identifier: whom to call, not what they have.")
class DeconflictionHit:
    case: str
    agency: str | None
    contact: str | None = strawberry.field(description="The case's point of contact, else its agency's.")
    kind: str
    how: str = strawberry.field(description="direct, identity (through a confirmed identity) or hops.")
    hops: int
    first_seen: datetime | None = strawberry.field(description="The earliest incident of the case's reports "
                                                   "that contain it.")
    reports: list[str] = strawberry.field(description="Its report keys, only those the caller may read.")


@strawberry.type(description="The answer for one identifier, in the order asked.")
class DeconflictionAnswer:
    kind: str
    value: str
    key: str | None = strawberry.field(description="The normalised key looked up.")
    error: str | None = strawberry.field(description="Why the identifier was refused (then no hits).")
    hits: list[DeconflictionHit]


def to_answer(answer: d.Answer) -> DeconflictionAnswer:
    return DeconflictionAnswer(kind=answer.kind, value=answer.value, key=answer.key, error=answer.error,
                               hits=[DeconflictionHit(case=h.case, agency=h.agency, contact=h.contact, kind=h.kind,
                                                      how=h.how, hops=h.hops, first_seen=h.first_seen,
                                                      reports=list(h.reports)) for h in answer.hits])
