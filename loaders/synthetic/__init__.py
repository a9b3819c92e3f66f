"""Synthetic CyberTipline referrals with planted ground truth, for the demo, tests and benchmarks.

`generate(out_dir, reports=N, seed=S)` writes, byte-identically for the same arguments:

- `reports-00001.xml`, … : bundles of `bundle_size` reports in time order, root `reports`
  wrapping `report` elements as in formats.md; bundles 2, 5, 8, … declare a default namespace;
  bundles 1, 3, 5, … name the provider in `reporter/reportingEsp/espName`, bundles 2, 4, … in
  `reporter/companyTemplate` (beside a `reportingPerson`, the provider's staff, not a suspect).
- `hashset.csv` (`hash,algorithm,category`): the popular files, about half of the network files
  and five hashes no report contains.
- `vpn_exits.csv` (`ip,provider`): the planted VPN exit addresses.
- `truth.json`: the `Truth` below.

What is planted: offender networks (3-30 accounts on 2-4 providers that share rare files and log
in from one address minutes apart, over months); people with 2-5 accounts whose handles vary
(separators, digits, leetspeak, swapped letters, display names) tied by a phone, gmail spellings,
a device, or birth date and name; households whose 2-4 accounts share one device; CGNAT and VPN
addresses and popular files that many unrelated accounts share (noise, not links); one-report
accounts; and, with `noise=True`, malformed identifiers that a loader must reject (per kind
min(20, 1 + reports // 5000), in one-report accounts only).

Addresses: own and network addresses are in 198.18.0.0/15 and 2001:db8::/32, VPN exits in
203.0.113.0/24 and 2001:db8:ffff::/48, CGNAT in 100.64.0.0/10. Generation holds the whole run in
memory (about 8 KB per report) and takes about 20 s of CPU per 100k reports.

truth.json fields (stable: later scoring reads them):

- `params`: {reports, seed, bundle_size, noise}; `files`: the XML file names in order;
  `hashset`, `vpn_exits`: the CSV file names.
- `definitions`: {cousage_window_s: 3600, link_reasons: [...]}.
- `counts`: {"nodes": {label: n}, "relationships": {type: n}}: what a correct loader creates
  from the XML alone, for labels Report (stub reports cited in `priorCTReports` included),
  Provider, Account, Person, Email, Phone, IP, Device, File, Location and relationship types
  SUBMITTED_BY, REPORTS, USES, HAS_EMAIL, HAS_PHONE, USED_IP, USED_DEVICE, SHARED, INCLUDES,
  LOCATED_IN, ASSOCIATED_WITH, RELATED_TO (one per distinct (type, start, end); a file written
  with MD5 only in one report and MD5+SHA1 in another is one File). Planted invalid identifiers
  are not counted. Keys are those of `loaders.identifiers` applied to the written text.
- `networks`: [{id, accounts: [account keys], files: [file keys], ips: [ip keys]}].
- `persons`: the people with more than one account: [{id, kind (person | network), network
  (id or null), accounts, first_name, last_name, dob, shares (subset of phone, email, device,
  dob_name: what their accounts' reports have in common), screen_names}]. An account listed
  only here and in `associatedAccount` elements was never reported itself.
- `family_devices`: [{device: device key, accounts, last_name}]: one household, not a network.
- `supernode_ips`: [{ip, kind: cgnat | vpn, accounts: distinct accounts seen on it,
  vpn_provider}]. `popular_files`: [file keys].
- `file_hashes`: {file key: {md5, sha1[, sha256]}} for network and popular files, every hash
  written for the file (match on any: a writer may keep whichever key it met first).
- `links`: [{a, b, reason, evidence}] with a < b, one row per (pair, reason), sorted. Reasons:
  `network_file` (both named in reports that include one network file; evidence: file keys),
  `network_ip_cousage` (both used one network address within `cousage_window_s`; ip keys),
  `co_reported` (named in one report; report keys), `same_person` (accounts of one person;
  person id), `family_device` (one household's device; device key). Pairs that merely share a
  CGNAT or VPN address or a popular file are NOT links.
- `invalid`: [{kind: ip | imei | hash, file, report_id, report (key), path (element path under
  `report`, no indexes), value}]: each must come back as a rejection, and nothing else of its
  report may be lost.

File keys are `<algo>:<hex>` of the strongest hash written for the file anywhere (sha256 > sha1
> md5). Account keys are `<provider key>:<espIdentifier>`, or `<provider key>:@<screen name>`
for the one provider that sends no ids.
"""

from loaders.synthetic.generator import generate
from loaders.synthetic.truth import Truth

__all__ = ["Truth", "generate"]
