// Communities in the viewer: the newest run's list in the sidebar, a ring colour per community on
// the chart, and the community card's text for a case file. Fetches through api.js only.

import * as api from './api.js';
import { el, plural } from './format.js';

/** Ring colours, one per community number (repeating past twelve); none is a kind's fill colour. */
export const PALETTE = ['#e11d48', '#7c3aed', '#0e7490', '#4d7c0f', '#c2410c', '#db2777',
  '#4338ca', '#047857', '#a16207', '#9333ea', '#0369a1', '#b91c1c'];

export function communityColour(number) {
  return PALETTE[number % PALETTE.length];
}

/** What a change says on a community's row of the later run, by kind (STABLE says nothing). */
const BADGES = {
  APPEARED: () => 'new', GREW: (c) => `+${c.sizeAfter - c.sizeBefore}`, SHRANK: (c) => `−${c.sizeBefore - c.sizeAfter}`,
  MERGED: (c) => `merged ${c.before.length}`, SPLIT: () => 'split off',
};

/** Kinds as the summary line words them, in its order. */
const SAID = [['GREW', 'grew'], ['SHRANK', 'shrank'], ['MERGED', 'merged'], ['SPLIT', 'split'],
  ['APPEARED', 'appeared'], ['VANISHED', 'vanished']];

export class CommunityList {
  constructor(root, { onOpen, onError, changesRoot = null }) {
    this.root = root;
    this.changesRoot = changesRoot;
    this.onOpen = onOpen;
    this.onError = onError;
    this.items = [];
    this.changes = [];
  }

  /** Ask for the newest run's largest communities; "no run yet" is a message, not an error. */
  async load(limit = 15) {
    try {
      this.items = await api.communities(limit);
    } catch (err) {
      if (err && err.code === 'NOT_FOUND') {
        this.items = [];
        this.root.replaceChildren(el('li', { class: 'muted' }, 'No run yet: run “gracegraph communities”.'));
        return;
      }
      this.root.replaceChildren(el('li', { class: 'muted' }, 'Could not load the communities.'));
      this.onError(err);
      return;
    }
    if (!this.items.length) {
      this.root.replaceChildren(el('li', { class: 'muted' }, 'The newest run found no communities.'));
      return;
    }
    this.root.replaceChildren(...this.items.map((c) => el('li', {},
      el('button', {
        type: 'button', class: 'community-row', dataset: { id: c.id }, onclick: () => this.onOpen(c.id),
        title: `${c.id}: ${plural(c.size, 'account')}, ${plural(c.reportCount, 'report')} from ${plural(c.providerCount, 'provider')}, density ${c.density.toFixed(2)}`,
      },
      el('span', { class: 'swatch', style: `background:${communityColour(c.number)}` }),
      el('span', { class: 'community-name' }, `#${c.number}`),
      el('span', { class: 'legend-count' }, `${c.size} acc · ${c.reportCount} rep`),
      el('span', { class: 'change-badge', hidden: true })))));
    await this.loadChanges();
  }

  /** Compare the newest run with the finished run before it: a line of counts, a badge per row. */
  async loadChanges() {
    if (!this.changesRoot) return;
    this.changes = [];
    this.changesRoot.replaceChildren();
    const runs = (await api.communityRuns()).filter((r) => r.status === 'done');
    const newest = this.items.length ? this.items[0].run : null;
    const at = runs.findIndex((r) => r.run === newest);
    if (at < 0 || at + 1 >= runs.length) {
      this.changesRoot.textContent = 'No earlier run to compare with.';
      return;
    }
    const before = runs[at + 1];
    this.changes = await api.communityChanges(before.run, newest);
    const counts = new Map();
    for (const change of this.changes) counts.set(change.kind, (counts.get(change.kind) || 0) + 1);
    const said = SAID.filter(([kind]) => counts.get(kind)).map(([kind, word]) => `${counts.get(kind)} ${word}`);
    this.changesRoot.replaceChildren(
      el('span', { title: `Members matched by Jaccard index between run ${before.run} and run ${newest}` },
        `Since run ${before.run}: ${said.join(', ') || 'no change'}.`));
    for (const change of this.changes) {
      const badge = BADGES[change.kind];
      if (!badge) continue;
      for (const id of change.after) {
        const row = this.root.querySelector(`.community-row[data-id="${CSS.escape(id)}"] .change-badge`);
        if (!row) continue;
        row.hidden = false;
        row.dataset.kind = change.kind;
        row.textContent = badge(change);
        row.title = `${change.kind.toLowerCase()}: ${change.sizeBefore} → ${change.sizeAfter} members, `
          + `Jaccard ${change.jaccard.toFixed(2)}${change.before.length ? `, from ${change.before.join(', ')}` : ''}`;
      }
    }
  }
}

/** The card as plain text, for pasting into a case file: every figure with what it rests on. */
export function cardText(card) {
  const lines = [
    `Community ${card.id} (run ${card.run})`,
    `${plural(card.size, 'account')}, ${plural(card.edges, 'tie')} (density ${card.density.toFixed(2)}), `
      + `${plural(card.reportCount, 'report')} from ${plural(card.providerCount, 'provider')}, ${plural(card.knownFileCount, 'known file')}`,
    '',
    'Most central members (PageRank within the community):',
    ...card.central.map((m) => `  ${m.entity.key}  ${m.rank.toFixed(3)}`),
    '',
    `Providers: ${card.providers.map((p) => `${p.name} (${p.count})`).join(', ') || 'none'}`,
    `Cases: ${card.cases.map((c) => `${c.case.key}${c.agency ? ` (${c.agency})` : ''}`).join(', ') || 'none'}`,
    `Known-file categories: ${card.categories.map((c) => `${c.name} (${c.count})`).join(', ') || 'none'}`,
    '',
    'What binds it (identifiers members share):',
    ...card.binding.map((b) => `  ${b.entity.kind} ${b.entity.key}: ${b.holders} members of ${b.degree} holders; `
      + `${b.excluded ? `not counted (${b.excluded})` : `weight ${b.weight.toPrecision(3)}`}; reports ${b.sources.join(', ')}`),
  ];
  return lines.join('\n');
}
