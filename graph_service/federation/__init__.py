"""Federated deconfliction: separate gracegraph instances learn which identifiers they share, and whom
to call, without handing over raw identifiers (docs/federation.md: protocol and threat model).

One module per job: `errors` (what a peer or the user can act on), `keys` (this instance's signing
key and blinding secret), `peers` (the peers.yaml config), `signing` (signed, replay-proof calls),
`blinding` (hash to the group, commutative blinding, the HMAC mode), `tokens` (what is blinded: an
identifier's kind and normalised key, IPs with a time bucket), `store` (the local SQLite cache of
blinded values, issued references, nonces and rate counters), `sources` (identifiers from the graph
or a file), `responder` (a peer's side of an exchange), `router` (its HTTP endpoints), `client`
(our side), `exchange` (sync and deconflict, the two flows).
"""
