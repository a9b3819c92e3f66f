// The left column: the legend that is also the kind filter, the time range, the path ends and
// the expansion settings. It reads the chart and calls back into the app; it fetches nothing.

import { el } from './format.js';
import { LINK_COLOUR, LINK_KIND, SUPERNODE } from './graph.js';
import { KINDS, kindBadge, kindStyle } from './kinds.js';

const $ = (selector) => document.querySelector(selector);
const DAY_END_MS = 24 * 3600 * 1000 - 1;

export class Sidebar {
  constructor(view, { onTimeRange, onFindPaths, onClearPaths, onPickEnd }) {
    this.view = view;
    this.legend = $('#legend');
    this.since = $('#since');
    this.until = $('#until');
    this.maxHops = $('#max-hops');
    this.depth = $('#depth');
    this.limit = $('#limit');
    this.findButton = $('#btn-paths');
    this.clearButton = $('#btn-unhighlight');
    this.ends = { from: null, to: null };
    this.onPickEnd = onPickEnd;

    const time = () => onTimeRange(this.timeRange());
    this.applyTimeRange = time;
    this.since.addEventListener('change', time);
    this.until.addEventListener('change', time);
    $('#time-reset').addEventListener('click', () => {
      this.since.value = '';
      this.until.value = '';
      time();
    });
    this.findButton.addEventListener('click', () => onFindPaths(this.ends.from, this.ends.to));
    this.clearButton.addEventListener('click', () => onClearPaths());
  }

  /** {since, until} in ms (whole UTC days, until inclusive), or null for an open end. */
  timeRange() {
    const since = this.since.value ? Date.parse(`${this.since.value}T00:00:00Z`) : null;
    const until = this.until.value ? Date.parse(`${this.until.value}T00:00:00Z`) + DAY_END_MS : null;
    return { since, until };
  }

  /** Set the range to one period [start, end) given as ISO times (the trends chart's bars). */
  setPeriod(start, end) {
    this.since.value = start.slice(0, 10);
    this.until.value = new Date(Date.parse(end) - 1).toISOString().slice(0, 10);
    this.applyTimeRange();
  }

  /** Show a time range (ISO texts or null) in the date fields, as a reopened chart had it. */
  showTimeRange(since, until) {
    this.since.value = since ? since.slice(0, 10) : '';
    this.until.value = until ? until.slice(0, 10) : '';
  }

  expansion() {
    const { since, until } = this.timeRange();
    return {
      depth: Number(this.depth.value),
      limit: Number(this.limit.value),
      since: since === null ? null : new Date(since).toISOString(),
      until: until === null ? null : new Date(until).toISOString(),
    };
  }

  hops() {
    return Number(this.maxHops.value);
  }

  setEnd(which, id) {
    this.ends[which] = id;
    this.refreshEnds();
  }

  refreshEnds() {
    for (const which of ['from', 'to']) {
      const slot = $(`#path-${which}`);
      const id = this.ends[which];
      const entity = id ? this.view.entity(id) : null;
      if (!entity) {
        this.ends[which] = null;
        slot.replaceChildren('select a node');
        slot.classList.add('muted');
        continue;
      }
      slot.classList.remove('muted');
      slot.replaceChildren(el('button', { type: 'button', class: 'entity-row compact', title: entity.key, onclick: () => this.onPickEnd(id) },
        kindBadge(entity.kind), el('span', { class: 'row-label' }, entity.label)));
    }
    const { from, to } = this.ends;
    this.findButton.disabled = !(from && to && from !== to);
  }

  setHighlighted(on) {
    this.clearButton.disabled = !on;
  }

  /** Legend rows for the kinds on the chart, in the model's order, each a visibility switch. */
  refreshLegend() {
    const counts = new Map();
    this.view.nodes.forEach((n) => counts.set(n.kind, (counts.get(n.kind) || 0) + 1));
    for (const kind of this.view.hiddenKinds) if (!counts.has(kind)) counts.set(kind, 0);
    if (!counts.size) {
      this.legend.replaceChildren(el('li', { class: 'muted' }, 'Nothing drawn yet'));
      return;
    }
    const known = Object.keys(KINDS);
    const kinds = [...counts.keys()].sort((a, b) => rank(known, a) - rank(known, b) || a.localeCompare(b));
    const rows = kinds.map((kind) => {
      const box = el('input', { type: 'checkbox', 'data-kind': kind });
      box.checked = !this.view.hiddenKinds.has(kind);
      box.addEventListener('change', () => this.view.setKindVisible(kind, box.checked));
      return el('li', {}, el('label', { title: box.checked ? `Hide ${kindStyle(kind).plural}` : `Show ${kindStyle(kind).plural}` },
        box, kindBadge(kind), el('span', { class: 'legend-name' }, kindStyle(kind).plural),
        el('span', { class: 'legend-count' }, counts.get(kind).toLocaleString('en'))));
    });
    this.legend.replaceChildren(...rows, ...this._markRows());
  }

  /** Legend rows for what is drawn by meaning rather than kind: supernodes (not expanded), scored
   * links (as wide as their score) and pointers from peer agencies (one row per peer). */
  _markRows() {
    const hubs = this.view.nodes.get({ filter: (n) => n.supernode === true }).length;
    const links = this.view.edges.get({ filter: (e) => e.kind === LINK_KIND }).length;
    const out = [];
    if (hubs) {
      out.push(el('li', { class: 'legend-mark', 'data-mark': 'supernode', title: 'Shared too widely to be evidence (CGNAT, VPN/Tor exits, files everyone has, providers): not expanded unless you double-click one' },
        el('span', { class: 'swatch diamond', style: `--fill: ${SUPERNODE.colour}; --edge: ${SUPERNODE.border}` }),
        el('span', { class: 'legend-name' }, 'Supernodes, not expanded'),
        el('span', { class: 'legend-count' }, hubs.toLocaleString('en'))));
    }
    if (links) {
      out.push(el('li', { class: 'legend-mark', 'data-mark': 'link', title: 'Accounts tied by scored evidence: the wider, the stronger. Click one for why.' },
        el('span', { class: 'swatch line', style: `--edge: ${LINK_COLOUR}` }),
        el('span', { class: 'legend-name' }, 'Scored links (width = score)'),
        el('span', { class: 'legend-count' }, links.toLocaleString('en'))));
    }
    const peers = new Map();
    for (const [id, marks] of this.view.federated) {
      if (!this.view.has(id)) continue;
      for (const m of marks) {
        if (!peers.has(m.peer)) peers.set(m.peer, { ...m, nodes: 0 });
        peers.get(m.peer).nodes += 1;
      }
    }
    for (const p of peers.values()) {
      out.push(el('li', { class: 'legend-mark', 'data-mark': 'federated', 'data-peer': p.peer, title: `Identifiers ${p.agency} holds too (federated deconfliction): select one for whom to call` },
        el('span', { class: 'swatch pointer', style: `--fill: ${p.colour}` }),
        el('span', { class: 'legend-name' }, `Held by ${p.agency}`),
        el('span', { class: 'legend-count' }, p.nodes.toLocaleString('en'))));
    }
    return out;
  }
}

function rank(order, kind) {
  const at = order.indexOf(kind);
  return at === -1 ? order.length : at;
}
