// "Look first": the accounts that `priorities` ranks highest, each with why (the parts of its
// score, on hover and for screen readers). Choosing one draws its network.

import { el } from './format.js';
import { kindBadge } from './kinds.js';

const PART_NAMES = {
  known_files: 'known files', flagged_links: 'linked to flagged accounts', centrality: 'central in its group',
  files: 'other files', reports: 'reports', providers: 'providers', recency: 'recent', cases: 'in cases',
};

/** "known files 12 (+7.7), reports 3 (+0.7)": the parts that count, largest first. */
export function why(priority) {
  return priority.parts
    .filter((p) => p.contribution > 0)
    .sort((a, b) => b.contribution - a.contribution)
    .map((p) => `${PART_NAMES[p.name] || p.name} ${Number.isInteger(p.value) ? p.value : p.value.toFixed(2)} (+${p.contribution.toFixed(1)})`)
    .join(', ');
}

export class PriorityList {
  constructor(list, { load, onOpen }) {
    this.list = list;
    this.load = load;
    this.onOpen = onOpen;
  }

  async refresh() {
    const items = await this.load();
    if (!items.length) {
      this.list.replaceChildren(el('li', { class: 'muted' }, 'No accounts in the graph.'));
      return items;
    }
    this.list.replaceChildren(...items.map((p, i) => {
      const reason = why(p);
      return el('li', {},
        el('button', {
          type: 'button', class: 'entity-row compact priority-row', title: `${p.key}\nScore ${p.score.toFixed(1)}: ${reason}`,
          'data-id': p.id, 'aria-label': `${i + 1}. ${p.label}, score ${p.score.toFixed(1)}: ${reason}`,
          onclick: () => this.onOpen({ id: p.id, kind: p.kind, key: p.key, label: p.label }),
        },
        el('span', { class: 'priority-rank' }, String(i + 1)), kindBadge(p.kind),
        el('span', { class: 'row-label' }, p.label),
        el('span', { class: 'priority-score' }, p.score.toFixed(1))));
    }));
    return items;
  }
}
