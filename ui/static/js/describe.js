// What a node or a link says on hover, and how thick a link is drawn: plain text (vis-network
// sets tooltips with innerText, so referral data cannot inject markup).

import { formatTime, plural } from './format.js';

export function edgeWidth(edge) {
  // More reports behind a relationship, thicker line: corroboration at a glance.
  const n = (edge.sources || []).length;
  return Math.min(1.2 + Math.log2(Math.max(n, 1)) * 0.8, 5);
}

/** A scored link's width: 1.5 for the weakest counted link (score 0.1), growing with the
 * logarithm of the score, capped at 9 so one very strong pair does not cover the chart. */
export function linkWidth(score) {
  return Math.min(1.5 + 2.2 * Math.log2(1 + Math.max(score, 0) * 2), 9);
}

const REASONS = {
  provider: 'a provider: every report leads to it',
  exit_list: 'a VPN/Tor exit from a loaded list',
  cgnat: 'a carrier-grade NAT address (100.64.0.0/10)',
  degree: 'shared by too many accounts',
  spread: 'spread over too many providers and too long a time',
};

/** Why a supernode is not expanded, in words. */
export function reasonText(reason) {
  return REASONS[reason] || reason || 'supernode';
}

export function skippedTitle(skipped) {
  const [kind, ...rest] = skipped.id.split(':');
  const wide = skipped.reason === 'provider' ? plural(skipped.degree || 0, 'report') : plural(skipped.degree || 0, 'account');
  return [`Supernode (${kind}): ${rest.join(':')}`, `${reasonText(skipped.reason)}, ${wide}`,
    'Not expanded and not counted as evidence; double-click to expand it anyway'].join('\n');
}

export function linkTitle(link, from, to) {
  const kinds = [...new Set(link.evidence.map((e) => e.kind))].join(', ');
  return [`Linked, score ${link.score.toFixed(2)}`, `${from ? from.label : link.a} — ${to ? to.label : link.b}`,
    `${plural(link.evidence.length, 'piece')} of evidence: ${kinds}`, 'Click for why they are linked'].join('\n');
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
