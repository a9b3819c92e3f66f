// The viewer's only line to the server: POST /graphql (contract in DESIGN.md §5). Every failure
// becomes an ApiError with the server's code, so the page can say what went wrong instead of
// drawing an empty chart.

const ENDPOINT = new URL('graphql', document.baseURI).href;
const TOKEN_KEY = 'gracegraph.token';

// A token handed over in the URL fragment (`gracegraph demo` prints such a link) moves to
// sessionStorage, for this tab's session only, and leaves the address bar: a fragment never
// reaches the server, its logs or a Referer header.
const handed = new URLSearchParams(window.location.hash.slice(1)).get('token');
if (handed) {
  sessionStorage.setItem(TOKEN_KEY, handed);
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
}

export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

const ENTITY = 'fragment EntityFields on Entity { id kind key label properties sources }';
const EDGE = 'fragment EdgeFields on Edge { id kind source target properties sources }';

const SEARCH = `query Search($text: String!, $limit: Int!) {
  search(text: $text, limit: $limit) { score matched entity { id kind key label } }
}`;

const NEIGHBOURHOOD = `query Neighbourhood($ids: [ID!]!, $depth: Int!, $since: DateTime, $until: DateTime, $limit: Int!) {
  neighbourhood(ids: $ids, depth: $depth, since: $since, until: $until, limit: $limit) {
    truncated nodes { ...EntityFields } edges { ...EdgeFields } skipped { id reason degree }
  }
}
${ENTITY}
${EDGE}`;

const PATHS = `query Paths($from: ID!, $to: ID!, $maxHops: Int!) {
  paths(from: $from, to: $to, maxHops: $maxHops) {
    length paths { nodes { ...EntityFields } edges { ...EdgeFields } }
  }
}
${ENTITY}
${EDGE}`;

const REPORT = `query Report($key: String!) {
  report(key: $key) {
    entity { ...EntityFields }
    contents { truncated nodes { ...EntityFields } edges { ...EdgeFields } }
  }
}
${ENTITY}
${EDGE}`;

export async function graphql(operationName, query, variables) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  // The bearer token every request needs (DESIGN.md §7), kept for the browser session only.
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: 'POST', headers, credentials: 'same-origin',
      body: JSON.stringify({ query, variables, operationName }),
    });
  } catch (err) {
    throw new ApiError(`cannot reach the server (${err.message})`, 'UNAVAILABLE');
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null; // not JSON (a proxy's error page): reported below with the HTTP status
  }
  if (body && Array.isArray(body.errors) && body.errors.length) {
    const first = body.errors[0];
    const code = (first.extensions && first.extensions.code) || 'ERROR';
    if (code === 'UNAUTHENTICATED') {
      throw new ApiError('not signed in: open the link with #token=… that `gracegraph demo` printed, '
        + 'or add #token=<your token> to this address', code);
    }
    throw new ApiError(first.message || 'unknown error', code);
  }
  if (!response.ok || !body || !body.data) {
    throw new ApiError(`the server answered HTTP ${response.status} ${response.statusText}`.trim(), `HTTP_${response.status}`);
  }
  return body.data;
}

export async function search(text, limit = 12) {
  return (await graphql('Search', SEARCH, { text, limit })).search;
}

export async function neighbourhood(ids, { depth = 1, since = null, until = null, limit = 500 } = {}) {
  return (await graphql('Neighbourhood', NEIGHBOURHOOD, { ids, depth, since, until, limit })).neighbourhood;
}

const LINKS = `query Links($id: ID!, $limit: Int!) {
  links(id: $id, limit: $limit) {
    truncated
    links {
      a b score
      evidence { kind key entities reports times coUseCount holders weight rarity proximity support contribution
                 coUses { aTime bTime aReport bReport gapSeconds } }
    }
  }
}`;

/** The accounts linked to account `id`, strongest first, each link with its evidence (queries/links.py). */
export async function links(id, limit = 50) {
  return (await graphql('Links', LINKS, { id, limit })).links;
}

const ENTITIES = `query Entities($ids: [ID!]!, $limit: Int!) {
  neighbourhood(ids: $ids, depth: 1, limit: $limit) { nodes { ...EntityFields } }
}
${ENTITY}`;

/** The entities themselves: a neighbourhood capped at its start entities, which always come first. */
export async function entities(ids) {
  if (!ids.length) return [];
  const found = (await graphql('Entities', ENTITIES, { ids, limit: ids.length })).neighbourhood.nodes;
  const wanted = new Set(ids);
  return found.filter((n) => wanted.has(n.id));
}

export async function paths(from, to, maxHops = 4) {
  return (await graphql('Paths', PATHS, { from, to, maxHops })).paths;
}

export async function report(key) {
  return (await graphql('Report', REPORT, { key })).report;
}

const COMMUNITIES = `query Communities($limit: Int!) {
  communities(limit: $limit) { id run number size edges density reportCount providerCount knownFileCount }
}`;

const COMMUNITY = `query Community($id: ID!) {
  community(id: $id) {
    id run number size edges density reportCount providerCount knownFileCount
    central { rank entity { ...EntityFields } }
    providers { name count }
    cases { case { key } agency reports }
    categories { name count }
    binding(limit: 15) { entity { ...EntityFields } holders degree weight excluded sources }
    chart(members: 100) { truncated nodes { ...EntityFields } edges { ...EdgeFields } }
  }
}
${ENTITY}
${EDGE}`;

const MEMBERSHIPS = `query Memberships($ids: [ID!]!) {
  communityMemberships(ids: $ids) { entity community number size }
}`;

const RUNS = `query CommunityRuns { communityRuns { run createdAt status } }`;

const CHANGES = `query CommunityChanges($before: String!, $after: String!) {
  communityChanges(before: $before, after: $after) { kind before after sizeBefore sizeAfter jaccard joined left }
}`;

/** Stored community runs, newest first. */
export async function communityRuns() {
  return (await graphql('CommunityRuns', RUNS, {})).communityRuns;
}

/** How the communities of run `before` became those of the later run `after` (Jaccard matching). */
export async function communityChanges(before, after) {
  return (await graphql('CommunityChanges', CHANGES, { before, after })).communityChanges;
}

/** The newest run's communities, largest first. */
export async function communities(limit = 15) {
  return (await graphql('Communities', COMMUNITIES, { limit })).communities;
}

/** One community: its card (figures, central members, evidence) and its chart. */
export async function community(id) {
  return (await graphql('Community', COMMUNITY, { id })).community;
}

/** The newest run's community of each account among `ids`. */
export async function memberships(ids) {
  return (await graphql('Memberships', MEMBERSHIPS, { ids })).communityMemberships;
}

const TRENDS = `query Trends($bucket: TrendBucket!) {
  trends(bucket: $bucket) {
    bucket since until
    points { start end reports providers files newFiles knownFiles accounts newAccounts largestGroups }
  }
}`;

export async function trends(bucket = 'MONTH') {
  return (await graphql('Trends', TRENDS, { bucket })).trends;
}

const PRIORITIES = `query Priorities($limit: Int!) {
  priorities(scope: ACCOUNTS, limit: $limit) {
    id kind key label score parts { name value weight contribution evidence }
  }
}`;

export async function priorities(limit = 10) {
  return (await graphql('Priorities', PRIORITIES, { limit })).priorities;
}

const IDENTITIES = `query Identities($ids: [ID!]) {
  identities(ids: $ids, first: 100) { items { entity { id kind key label properties } members { id kind } } }
}`;

/** Resolved identities holding any of `ids` (accounts, persons). */
export async function identities(ids) {
  return (await graphql('Identities', IDENTITIES, { ids })).identities.items;
}

// ---- saved charts (queries/charts.py) and their exports (ui/exports) ---------------------------

const CHART = 'fragment ChartFields on Chart { id series name case version savedAt author state }';

const SAVE_CHART = `mutation SaveChart($case: String!, $name: String!, $state: JSON!) {
  saveChart(case: $case, name: $name, state: $state) { ...ChartFields }
}
${CHART}`;

const CHARTS = `query Charts($case: String!) { charts(case: $case) { ...ChartFields } }
${CHART}`;

const OPEN_CHART = `query OpenChart($id: ID!) {
  chart(id: $id) { ...ChartFields graph(kept: true) { nodes { ...EntityFields } edges { ...EdgeFields } missing } }
}
${CHART}
${ENTITY}
${EDGE}`;

const EXPORT_CHART = `query ExportChart($id: ID!, $format: String!) {
  exportChart(chartId: $id, format: $format) { filename mediaType encoding content size }
}`;

export async function saveChart(caseKey, name, state) {
  return (await graphql('SaveChart', SAVE_CHART, { case: caseKey, name, state })).saveChart;
}

export async function charts(caseKey) {
  return (await graphql('Charts', CHARTS, { case: caseKey })).charts;
}

export async function openChart(id) {
  return (await graphql('OpenChart', OPEN_CHART, { id })).chart;
}

export async function exportChart(id, format) {
  return (await graphql('ExportChart', EXPORT_CHART, { id, format })).exportChart;
}

// ---- federated deconfliction (graph_service/federation, docs/federation.md) --------------------

const FEDERATION_PEERS = `query FederationPeers { federationPeers { name agency contact revoked } }`;

const FEDERATED = `query FederatedDeconflict($entities: [ID!], $caseKey: String, $peers: [String!]) {
  federatedDeconflict(entities: $entities, caseKey: $caseKey, peers: $peers) { mine kind peer agency contact peerRef }
}`;

/** The peer instances this one can ask (peers.yaml); UNAVAILABLE when federation is not set up. */
export async function federationPeers() {
  return (await graphql('FederationPeers', FEDERATION_PEERS, {})).federationPeers;
}

/** Which of `entities` (chart ids), or of case `caseKey`'s identifiers, `peer` holds too: pointers only. */
export async function federatedDeconflict({ entities = null, caseKey = null, peer }) {
  return (await graphql('FederatedDeconflict', FEDERATED, { entities, caseKey, peers: [peer] })).federatedDeconflict;
}
