// What a node or a link says on hover, and how thick a link is drawn: plain text (vis-network
// sets tooltips with innerText, so referral data cannot inject markup).

import { formatTime, plural } from './format.js';

export function edgeWidth(edge) {
  // More reports behind a relationship, thicker line: corroboration at a glance.
  const n = (edge.sources || []).length;
  return Math.min(1.2 + Math.log2(Math.max(n, 1)) * 0.8, 5);
}

function timesLine(properties) {
  const first = properties.first_seen;
  const last = properties.last_seen;
  if (!first && !last) return null;
  if (first === last || !last) return `Seen ${formatTime(first)}`;
  return `First seen ${formatTime(first)}\nLast seen ${formatTime(last)}`;
}

export function nodeTitle(entity) {
  const lines = [`${entity.kind}: ${entity.label}`];
  if (entity.key !== entity.label) lines.push(entity.key);
  const times = timesLine(entity.properties || {});
  if (times) lines.push(times);
  lines.push(plural((entity.sources || []).length, 'source report'));
  lines.push('Double-click to expand');
  return lines.join('\n');
}

export function edgeTitle(edge, from, to) {
  const p = edge.properties || {};
  const lines = [edge.kind, `${from ? from.label : edge.source} → ${to ? to.label : edge.target}`];
  lines.push(plural((edge.sources || []).length, 'source report'));
  const times = timesLine(p);
  if (times) lines.push(times);
  if (Array.isArray(p.times) && p.times.length > 1) lines.push(plural(p.times.length, 'recorded time'));
  return lines.join('\n');
}
