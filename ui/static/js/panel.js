// The side panel: what the investigator has selected, with its evidence (properties and the
// reports it rests on), and the actions that apply to it.

import { cardText, communityColour } from './communities.js';
import { reasonText } from './describe.js';
import { el, formatTime, formatValue, humanise, plural } from './format.js';
import { STATUS_TEXT } from './federation.js';
import { kindBadge } from './kinds.js';

const SOURCES_SHOWN = 25;
const TIMES_SHOWN = 20;
/** Shown in their own rows (times) or not at all (the edge's full time list has its own list). */
const TIME_PROPS = ['first_seen', 'last_seen'];

export class Panel {
  /** `actions` are the app's verbs: expand, pathFrom, pathTo, togglePin, hide, openReport,
   * drawSubgraph, select, findPaths. */
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    this.back = null; // re-renders what the panel showed before a report was opened
    this.current = null;
    this.showEmpty();
  }

  _render(children, { keepBack = false } = {}) {
    if (!keepBack) this.back = null;
    this.root.replaceChildren(...children.filter((c) => c !== null && c !== undefined)); // an absent part is no "null" text
    this.root.scrollTop = 0;
  }

  showEmpty() {
    this.current = () => this.showEmpty();
    this._render([
      el('div', { class: 'panel-empty' },
        el('h2', {}, 'Nothing selected'),
        el('p', {}, 'Search for an account, email, phone, IP address, device, file hash or report key, then pick a suggestion to draw its neighbourhood.'),
        el('ul', { class: 'tips' },
          el('li', {}, el('kbd', {}, 'Double-click'), ' a node to expand it'),
          el('li', {}, el('kbd', {}, 'Ctrl'), '/', el('kbd', {}, 'Shift'), '-click to select two nodes, then ', el('em', {}, 'Find paths')),
          el('li', {}, 'Drag a node to pin it; ', el('kbd', {}, 'Del'), ' hides the selection'),
          el('li', {}, 'Hover a node or link for its times and sources'))),
    ]);
  }

  showEntity(entity, { pinned = false, hidden = false, federated = [] } = {}) {
    this.current = () => this.showEntity(entity, { pinned, hidden, federated });
    const a = this.actions;
    this._render([
      header(entity),
      el('div', { class: 'actions' },
        button('Expand', () => a.expand(entity.id), { title: 'Add its neighbours (double-click)', primary: true }),
        button('Path from', () => a.pathFrom(entity.id), { title: 'Start of a path search' }),
        button('Path to', () => a.pathTo(entity.id), { title: 'End of a path search' }),
        button(pinned ? 'Unpin' : 'Pin', () => a.togglePin(entity.id), { title: 'Keep it where it is when the chart is laid out again' }),
        hidden ? null : button('Hide', () => a.hide([entity.id]), { title: 'Remove from the chart (Del)' })),
      supernodeNote(entity),
      federated.length ? federatedSection(federated) : null,
      section('Properties', propertyTable(entity.properties || {})),
      section(`Source reports (${(entity.sources || []).length})`, this._sources(entity.sources || [])),
    ]);
  }

  /** "Why linked?": every piece of evidence behind a scored link between two accounts, with its
   * share of the score (contribution = weight × rarity × proximity × support, docs/analysis.md),
   * the shared identifier, the matched times and the reports it rests on. */
  showLink(link, from, to) {
    this.current = () => this.showLink(link, from, to);
    const rows = link.evidence.map((e) => el('li', { class: 'evidence', 'data-kind': e.kind },
      el('div', { class: 'evidence-head' },
        el('span', { class: 'evidence-kind' }, EVIDENCE_NAMES[e.kind] || e.kind),
        el('span', { class: 'evidence-share', title: `weight ${e.weight} × rarity ${e.rarity.toFixed(3)} × proximity ${e.proximity.toFixed(3)} × support ${e.support.toFixed(3)}` },
          `+${e.contribution.toFixed(2)}`)),
      el('div', { class: 'mono evidence-key', title: e.key }, e.key),
      el('div', { class: 'muted' }, `shared by ${plural(e.holders, 'account')}`,
        e.coUseCount ? ` · ${plural(e.coUseCount, 'co-use')} within the window` : ''),
      e.coUses.length ? listOf(e.coUses.slice(0, 5).map((m) => `${formatTime(m.aTime)} / ${formatTime(m.bTime)} (${gap(m.gapSeconds)} apart)`), e.coUses.length - 5)
        : e.times.length ? listOf(e.times.slice(0, 5).map(formatTime), e.times.length - 5) : null,
      el('div', { class: 'evidence-reports' }, this._sources(e.reports))));
    this._render([
      el('div', { class: 'panel-head' },
        el('div', { class: 'edge-kind' }, 'Why linked?'),
        el('div', { class: 'edge-ends' },
          endpoint(from, link.a, () => this.actions.select(link.a)),
          el('span', { class: 'arrow' }, '↕'),
          endpoint(to, link.b, () => this.actions.select(link.b)))),
      el('p', { class: 'link-score' }, `Score ${link.score.toFixed(2)}: the sum of ${plural(link.evidence.length, 'piece')} of evidence below.`),
      el('section', { class: 'panel-section why-linked' }, el('h3', {}, 'Evidence'), el('ol', { class: 'evidence-list' }, rows)),
    ]);
  }

  /** A dashed tie to a supernode that an expansion did not enter. */
  showSkipped(skipped, from, hub) {
    this.current = () => this.showSkipped(skipped, from, hub);
    this._render([
      el('div', { class: 'panel-head' }, el('div', { class: 'edge-kind' }, 'Not expanded')),
      el('p', {}, `${hub ? hub.label : skipped.id} is a supernode next to ${from ? from.label : 'the expanded entity'}: ${reasonText(skipped.reason)} (${plural(skipped.degree, skipped.reason === 'provider' ? 'report' : 'account')}).`),
      el('p', { class: 'muted' }, 'Link analysis neither passes through it nor counts it as evidence. Expanding it draws its neighbours anyway.'),
      el('div', { class: 'actions' }, button('Expand it anyway', () => this.actions.expand(skipped.id))),
    ]);
  }

  showEdge(edge, from, to) {
    this.current = () => this.showEdge(edge, from, to);
    const p = edge.properties || {};
    const times = Array.isArray(p.times) ? p.times : [];
    const rest = Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'times'));
    this._render([
      el('div', { class: 'panel-head' },
        el('div', { class: 'edge-kind' }, edge.kind),
        el('div', { class: 'edge-ends' },
          endpoint(from, edge.source, () => this.actions.select(edge.source)),
          el('span', { class: 'arrow' }, '↓'),
          endpoint(to, edge.target, () => this.actions.select(edge.target)))),
      section('Properties', propertyTable(rest)),
      times.length ? section(`Times (${times.length})`, listOf(times.slice(0, TIMES_SHOWN).map(formatTime), times.length - TIMES_SHOWN)) : null,
      section(`Source reports (${(edge.sources || []).length})`, this._sources(edge.sources || [])),
    ]);
  }

  showMany(entities) {
    this.current = () => this.showMany(entities);
    const ids = entities.map((e) => e.id);
    this._render([
      el('div', { class: 'panel-head' }, el('h2', {}, plural(entities.length, 'node'), ' selected')),
      el('div', { class: 'actions' },
        entities.length === 2 ? button('Find paths', () => this.actions.findPaths(ids[0], ids[1]), { primary: true }) : null,
        button('Expand all', () => this.actions.expand(ids)),
        button('Hide', () => this.actions.hide(ids))),
      el('ul', { class: 'entity-list' }, entities.map((e) => entityRow(e, () => this.actions.select(e.id)))),
    ]);
  }

  /** The shortest paths found, each as a chain: entity, relationship (with its direction), entity… */
  showPaths(pathSet, from, to) {
    this.current = () => this.showPaths(pathSet, from, to);
    const chains = pathSet.paths.map((path, i) => el('section', { class: 'panel-section' },
      el('h3', {}, `Path ${i + 1}`),
      el('ol', { class: 'path-chain' }, path.nodes.flatMap((node, j) => {
        const row = el('li', {}, entityRow(node, () => this.actions.select(node.id)));
        const next = path.nodes[j + 1];
        if (!next) return [row];
        const edge = path.edges.find((e) => (e.source === node.id && e.target === next.id) || (e.source === next.id && e.target === node.id));
        const hop = !edge ? '…' : edge.source === node.id ? `${edge.kind} ↓` : `${edge.kind} ↑`;
        return [row, el('li', { class: 'hop mono', title: edge ? plural((edge.sources || []).length, 'source report') : null }, hop)];
      }))));
    this._render([
      el('div', { class: 'panel-head' }, el('div', { class: 'head-text' },
        el('h2', {}, 'Shortest paths'),
        el('div', { class: 'muted' }, `${plural(pathSet.paths.length, 'path')} of ${plural(pathSet.length, 'hop')} from ${from ? from.label : '?'} to ${to ? to.label : '?'}, highlighted on the chart`))),
      ...chains,
    ]);
  }

  /** A community's card: figures, most central members, providers, cases, categories and the
   * identifiers that bind it, each with its reports; its text can go into a case file. */
  showCommunity(card) {
    this.current = () => this.showCommunity(card);
    const text = cardText(card);
    const summary = el('pre', { class: 'card-text', hidden: true }, text);
    const facts = {
      accounts: card.size, ties: card.edges, density: card.density.toFixed(2), reports: card.reportCount,
      providers: card.providerCount, 'known files': card.knownFileCount, run: card.run,
    };
    this._render([
      el('div', { class: 'panel-head' },
        el('span', { class: 'swatch large', style: `background:${communityColour(card.number)}` }),
        el('div', { class: 'head-text' }, el('h2', {}, `Community #${card.number}`),
          el('div', { class: 'mono key' }, card.id))),
      el('div', { class: 'actions' },
        button('Summary for the case file', () => {
          summary.hidden = !summary.hidden;
          if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).catch(() => {});
        }, { title: 'Show the card as text (and copy it where the browser allows)', primary: true })),
      summary,
      section('Figures', propertyTable(facts)),
      section('Most central members', el('ul', { class: 'entity-list' }, card.central.map((m) => entityRow(
        { ...m.entity, label: `${m.entity.label} · ${m.rank.toFixed(2)}` }, () => this.actions.select(m.entity.id))))),
      section('Providers', listOf(card.providers.map((p) => `${p.name} (${p.count})`), 0)),
      section('Cases', card.cases.length ? listOf(card.cases.map((c) => `${c.case.key}${c.agency ? ` · ${c.agency}` : ''} (${plural(c.reports, 'report')})`), 0)
        : el('p', { class: 'muted' }, 'none')),
      card.categories.length ? section('Known-file categories', listOf(card.categories.map((c) => `${c.name} (${c.count})`), 0)) : null,
      section('What binds it', el('ul', { class: 'entity-list' }, card.binding.map((b) => {
        const row = entityRow(b.entity, () => this.actions.select(b.entity.id));
        row.append(el('div', { class: 'muted binding-note' }, `${b.holders} members of ${b.degree} holders · `
          + `${b.excluded ? `not counted: ${b.excluded}` : `weight ${b.weight.toPrecision(3)}`} · ${plural(b.sources.length, 'report')}`));
        return row;
      }))),
    ]);
  }

  /** The answers of the peer agencies last asked: each peer's status, then every hit grouped by
   * our identifier; one on the chart selects its node, one off it (a case's) can be drawn. */
  showFederation(result) {
    this.current = () => this.showFederation(result);
    const byNode = [...result.byNode];
    this._render([
      el('div', { class: 'panel-head' }, el('div', { class: 'head-text' },
        el('h2', {}, 'Held by other agencies'),
        el('div', { class: 'muted' }, `Asked ${formatTime(result.askedAt)} about `
          + (result.caseKey ? `case ${result.caseKey}` : plural(result.asked, 'identifier on the chart', 'identifiers on the chart'))))),
      el('ul', { class: 'federation-peers' }, result.peers.map((p) => el('li', { class: 'peer-row', 'data-peer': p.name, 'data-status': p.status },
        el('span', { class: 'swatch pointer', style: `--fill: ${p.colour}` }),
        el('span', { class: 'peer-name' }, `${p.agency} (${p.name})`),
        el('span', { class: `peer-status ${p.status}` }, p.status === 'answered' ? plural(p.hits.length, 'hit') : STATUS_TEXT[p.status]),
        p.message ? el('div', { class: 'peer-message muted' }, p.message) : null))),
      byNode.length ? el('p', { class: 'hint' }, POINTER_NOTE) : el('p', { class: 'muted' }, 'No peer that answered holds any of these identifiers.'),
      ...byNode.map(([id, hits]) => {
        const entity = this.actions.entityOf(id);
        const [kind, ...rest] = id.split(':');
        const head = entity ? entityRow(entity, () => this.actions.select(id))
          : el('li', {}, el('div', { class: 'entity-row off-chart' }, kindBadge(kind),
            el('span', { class: 'row-text' }, el('span', { class: 'row-label mono' }, rest.join(':')), el('span', { class: 'muted' }, 'not on the chart')),
            el('button', { type: 'button', onclick: () => this.actions.drawEntity(id) }, 'Draw')));
        return el('section', { class: 'panel-section federated-node', 'data-node': id },
          el('ul', { class: 'entity-list' }, head), hitList(hits));
      }),
    ]);
  }

  showLoading(text) {
    this._render([el('div', { class: 'panel-empty' }, el('p', { class: 'muted' }, text))], { keepBack: true });
  }

  /** A report and everything it names; "Draw" puts it on the chart. */
  showReport(view) {
    const back = this.back;
    const contents = view.contents;
    const named = contents.nodes.filter((n) => n.id !== view.entity.id);
    const byKind = new Map();
    for (const n of named) {
      if (!byKind.has(n.kind)) byKind.set(n.kind, []);
      byKind.get(n.kind).push(n);
    }
    this._render([
      back ? el('button', { class: 'link back', type: 'button', onclick: () => back() }, '← Back') : null,
      header(view.entity),
      el('div', { class: 'actions' },
        button('Draw on chart', () => this.actions.drawSubgraph(contents, view.entity.id), { primary: true }),
        contents.truncated ? el('span', { class: 'pill warn' }, 'truncated') : null),
      section('Properties', propertyTable(view.entity.properties || {})),
      ...[...byKind].map(([kind, items]) => section(`${kind} (${items.length})`,
        el('ul', { class: 'entity-list' }, items.map((e) => entityRow(e, () => this.actions.drawSubgraph(contents, e.id)))))),
    ], { keepBack: true });
    this.back = back;
  }

  /** Remember the current view so a report opened from it can go back. */
  rememberForBack() {
    this.back = this.current;
  }

  _sources(keys) {
    if (!keys.length) return el('p', { class: 'muted' }, 'none recorded');
    const list = el('ul', { class: 'sources' });
    const add = (from, to) => {
      for (const key of keys.slice(from, to)) {
        list.append(el('li', {}, el('button', {
          class: 'link mono', type: 'button', title: 'Open this report', onclick: () => this.actions.openReport(key),
        }, key)));
      }
    };
    add(0, SOURCES_SHOWN);
    if (keys.length <= SOURCES_SHOWN) return list;
    const more = el('button', { class: 'link', type: 'button' }, `Show all ${keys.length}`);
    more.addEventListener('click', () => {
      more.remove();
      add(SOURCES_SHOWN, keys.length);
    });
    return el('div', {}, list, more);
  }
}

const EVIDENCE_NAMES = {
  provider_tie: 'Tied by the provider', co_reported: 'Named in one report', device: 'Same device',
  phone: 'Same phone', email: 'Same email', email_variant: 'Same mailbox (spelling variant)',
  file: 'Same file', ip: 'Same IP address within the window',
};

function gap(seconds) {
  return seconds < 90 ? `${Math.round(seconds)} s` : seconds < 5400 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`;
}

const POINTER_NOTE = 'A pointer, not evidence: the peer holds this identifier too. Call its contact and quote its '
  + 'reference; the peer looks it up on its side. Nothing of its case is sent here, and nothing of ours went there.';

/** What the protocol reveals of one hit, and nothing more: our identifier's kind (and the IP use
 * that matched), the peer agency, its contact, the peer's opaque reference, when it was asked. */
function hitList(hits) {
  return el('ul', { class: 'federated-hits' }, hits.map((h) => el('li', { class: 'federated-hit', 'data-peer': h.peer, 'data-ref': h.peerRef },
    el('div', { class: 'evidence-head' },
      el('span', { class: 'swatch pointer', style: `--fill: ${h.colour}` }),
      el('span', { class: 'federated-agency' }, h.agency),
      el('span', { class: 'muted federated-peer' }, `(${h.peer})`)),
    el('table', { class: 'props' }, el('tbody', {},
      el('tr', {}, el('th', {}, 'Contact'), el('td', { class: 'federated-contact' }, h.contact)),
      el('tr', {}, el('th', {}, 'Their reference'), el('td', { class: 'mono federated-ref' }, h.peerRef)),
      el('tr', {}, el('th', {}, 'Kind'), el('td', { class: 'federated-kind' }, h.kind)),
      h.use ? el('tr', {}, el('th', {}, 'Our use'), el('td', {}, formatTime(h.use))) : null,
      el('tr', {}, el('th', {}, 'Asked'), el('td', {}, formatTime(h.askedAt))))))));
}

function federatedSection(hits) {
  const agencies = new Set(hits.map((h) => h.agency));
  return el('section', { class: 'panel-section federated' },
    el('h3', {}, `Held by other agencies (${agencies.size})`),
    el('p', { class: 'hint' }, POINTER_NOTE),
    hitList(hits));
}

function supernodeNote(entity) {
  const p = entity.properties || {};
  if (p.supernode !== true) return null;
  const wide = plural(p.degree || 0, p.supernode_reason === 'provider' ? 'report' : 'account');
  return el('p', { class: 'supernode-note' }, `Supernode: ${reasonText(p.supernode_reason)} (${wide}). `,
    entity.collapsed ? 'Not expanded: double-click or Expand to draw its neighbours anyway.' : 'Not passed through by expansions or paths.');
}

function header(entity) {
  return el('div', { class: 'panel-head' },
    kindBadge(entity.kind, 'badge large'),
    el('div', { class: 'head-text' },
      el('h2', { title: entity.label }, entity.label),
      el('div', { class: 'muted' }, entity.kind),
      entity.key !== entity.label ? el('div', { class: 'mono key', title: entity.key }, entity.key) : null));
}

function section(title, body) {
  return el('section', { class: 'panel-section' }, el('h3', {}, title), body);
}

function button(text, onclick, { title = null, primary = false } = {}) {
  return el('button', { type: 'button', class: primary ? 'primary' : null, title, onclick }, text);
}

function propertyTable(properties) {
  const names = Object.keys(properties).sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  if (!names.length) return el('p', { class: 'muted' }, 'none');
  return el('table', { class: 'props' }, el('tbody', {}, names.map((name) => el('tr', {},
    el('th', {}, humanise(name)),
    el('td', {}, valueCell(properties[name]))))));
}

function order(name) {
  const at = TIME_PROPS.indexOf(name);
  return at === -1 ? 0 : 1 + at; // times after the identifying properties, first before last
}

function valueCell(value) {
  if (!Array.isArray(value) || value.length < 2) return formatValue(Array.isArray(value) ? value[0] : value);
  const shown = value.slice(0, TIMES_SHOWN).map(formatValue);
  // Short values (ports, event names) read best in a line; names and times one to a row.
  if (shown.every((v) => v.length <= 16)) return `${shown.join(', ')}${value.length > TIMES_SHOWN ? ` +${value.length - TIMES_SHOWN} more` : ''}`;
  return listOf(shown, value.length - TIMES_SHOWN);
}

function listOf(items, more) {
  return el('ul', { class: 'values' }, items.map((t) => el('li', {}, t)), more > 0 ? el('li', { class: 'muted' }, `+${more} more`) : null);
}

function entityRow(entity, onclick) {
  return el('li', {}, el('button', { type: 'button', class: 'entity-row', onclick, title: entity.key },
    kindBadge(entity.kind),
    el('span', { class: 'row-text' }, el('span', { class: 'row-label' }, entity.label),
      el('span', { class: 'row-key mono' }, entity.key))));
}

function endpoint(entity, id, onclick) {
  if (!entity) return el('span', { class: 'mono' }, id);
  return el('button', { type: 'button', class: 'entity-row compact', onclick, title: entity.key },
    kindBadge(entity.kind), el('span', { class: 'row-label' }, entity.label));
}
