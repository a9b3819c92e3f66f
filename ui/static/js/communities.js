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

export class CommunityList {
  constructor(root, { onOpen, onError }) {
    this.root = root;
    this.onOpen = onOpen;
    this.onError = onError;
    this.items = [];
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
      el('span', { class: 'legend-count' }, `${c.size} acc · ${c.reportCount} rep`)))));
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
