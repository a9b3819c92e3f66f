// The trends chart in the sidebar: reports per period as bars, new accounts and new files as
// lines, drawn as plain SVG (no chart library: the viewer runs air-gapped and stays small).
// Clicking a bar narrows the chart's time range to that period.

import { el } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 240;
const HEIGHT = 96;
const PAD = { top: 6, right: 4, bottom: 16, left: 4 };
const SERIES = [
  { key: 'newAccounts', label: 'new accounts', class: 'trend-accounts' },
  { key: 'newFiles', label: 'new files', class: 'trend-files' },
];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

function day(iso) {
  return iso.slice(0, 10);
}

/** "2024-03" for a month, "2024 Q2" for a quarter, the first day otherwise. */
function periodName(point, bucket) {
  const start = new Date(point.start);
  if (bucket === 'YEAR') return String(start.getUTCFullYear());
  if (bucket === 'QUARTER') return `${start.getUTCFullYear()} Q${Math.floor(start.getUTCMonth() / 3) + 1}`;
  if (bucket === 'MONTH') return point.start.slice(0, 7);
  return day(point.start);
}

export class TrendsChart {
  constructor(root, { load, onPickPeriod }) {
    this.root = root;
    this.load = load;
    this.onPickPeriod = onPickPeriod;
    this.bucket = root.querySelector('#trend-bucket');
    this.figure = root.querySelector('#trend-chart');
    this.caption = root.querySelector('#trend-caption');
    this.bucket.addEventListener('change', () => this.refresh());
  }

  async refresh() {
    const data = await this.load(this.bucket.value);
    this.draw(data);
    return data;
  }

  draw(data) {
    const points = data.points;
    if (!points.length) {
      this.figure.replaceChildren(el('p', { class: 'muted' }, 'No dated reports in the graph.'));
      this.caption.replaceChildren();
      return;
    }
    const innerW = WIDTH - PAD.left - PAD.right;
    const innerH = HEIGHT - PAD.top - PAD.bottom;
    const top = Math.max(1, ...points.map((p) => Math.max(p.reports, p.newAccounts, p.newFiles)));
    const step = innerW / points.length;
    const y = (v) => PAD.top + innerH - (innerH * v) / top;
    const bars = points.map((p, i) => {
      const name = periodName(p, data.bucket);
      const groups = p.largestGroups.length ? `; largest linked groups ${p.largestGroups.join(', ')}` : '';
      const title = `${name}: ${p.reports} reports from ${p.providers} providers; ${p.accounts} accounts `
        + `(${p.newAccounts} new); ${p.files} files (${p.newFiles} new, ${p.knownFiles} hash-listed)${groups}`;
      const bar = svg('rect', {
        class: 'trend-bar', x: PAD.left + i * step + step * 0.1, y: y(p.reports),
        width: Math.max(1, step * 0.8), height: Math.max(0, PAD.top + innerH - y(p.reports)),
        'data-start': p.start, tabindex: 0, role: 'button', 'aria-label': title,
      }, svg('title', {}, title));
      const pick = () => this.onPickPeriod(p.start, p.end);
      bar.addEventListener('click', pick);
      bar.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); } });
      return bar;
    });
    const lines = SERIES.map((s) => svg('polyline', {
      class: `trend-line ${s.class}`,
      points: points.map((p, i) => `${(PAD.left + (i + 0.5) * step).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(' '),
    }));
    const axis = [
      svg('text', { x: PAD.left, y: HEIGHT - 3, class: 'trend-axis' }, periodName(points[0], data.bucket)),
      svg('text', { x: WIDTH - PAD.right, y: HEIGHT - 3, class: 'trend-axis', 'text-anchor': 'end' },
        periodName(points[points.length - 1], data.bucket)),
      svg('text', { x: PAD.left + 2, y: PAD.top + 8, class: 'trend-axis' }, `max ${top.toLocaleString('en')}`),
    ];
    this.figure.replaceChildren(svg('svg', {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: '100%', role: 'img', 'aria-label': 'Reports per period',
    }, ...bars, ...lines, ...axis));
    const total = points.reduce((n, p) => n + p.reports, 0);
    this.caption.replaceChildren(
      el('span', { class: 'trend-key trend-reports' }, `${total.toLocaleString('en')} reports`),
      ...SERIES.map((s) => el('span', { class: `trend-key ${s.class}` }, s.label)),
    );
  }
}
