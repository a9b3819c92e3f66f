// The review queue: proposed pairs side by side with their evidence; confirm, reject or mark unsure.
// Talks only to /graphql (api.js). Everything shown comes from referral data: text goes in through
// el() (textContent), never innerHTML.

import { ApiError, graphql } from './api.js';
import { el, formatValue, humanise } from './format.js';
import { kindBadge } from './kinds.js';

const PAGE = 50;
const ENTITY = 'id kind key label properties';
const CANDIDATES = `query Candidates($first: Int!, $after: String, $statuses: [String!], $minScore: Float!) {
  resolutionCandidates(first: $first, after: $after, statuses: $statuses, minScore: $minScore) {
    items { a { ${ENTITY} } b { ${ENTITY} } status score weight method evidence run by at note }
    pageInfo { endCursor hasNextPage }
  }
}`;
const JUDGE = `mutation Judge($a: ID!, $b: ID!, $verdict: Verdict!, $note: String) {
  judge(a: $a, b: $b, verdict: $verdict, note: $note) { status by at }
}`;
const SHOWN = ['provider', 'esp_id', 'screen_names', 'display_names', 'name', 'date_of_birth', 'service',
  'first_seen', 'last_seen', 'source_count'];

const $ = (id) => document.getElementById(id);
const state = { items: [], index: 0, after: null, more: false, busy: false, judged: [] };
// For tests and for people poking at the page: what is shown, and whether the page is idle.
window.review = { ready: false, state };

function message(text, kind = '') {
  const node = $('message');
  node.textContent = text;
  node.className = `status ${kind}`;
}

function record(entity) {
  const rows = SHOWN.filter((name) => entity.properties[name] !== undefined && entity.properties[name] !== null)
    .map((name) => [el('dt', {}, humanise(name)), el('dd', {}, formatValue(entity.properties[name]))]);
  return [
    el('h2', {}, kindBadge(entity.kind), entity.label),
    el('div', { class: 'key' }, entity.id),
    el('dl', {}, rows.flat()),
  ];
}

function shown(value) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).filter(([, v]) => v !== '' && !(Array.isArray(v) && !v.length))
      .map(([k, v]) => `${k}: ${formatValue(v)}`).join('; ') || '—';
  }
  return formatValue(value === '' ? null : value);
}

function evidenceRow(item) {
  const weight = Number(item.weight) || 0;
  const side = weight > 0 ? 'for' : weight < 0 ? 'against' : '';
  const finding = item.shared && item.shared.length ? `${item.label}: ${item.shared.join(', ')}` : item.label;
  const fuzzy = ['name', 'address'].includes(item.comparison) && typeof item.similarity === 'number';
  const similarity = fuzzy ? ` (similarity ${item.similarity.toFixed(2)})` : '';
  return el('tr', { class: side, dataset: { comparison: item.comparison } },
    el('td', {}, humanise(item.comparison)),
    el('td', {}, finding + similarity),
    el('td', { class: 'values' }, shown(item.a)),
    el('td', { class: 'values' }, shown(item.b)),
    el('td', { class: 'weight' }, weight.toFixed(1),
      el('span', { class: 'bar', style: `width:${Math.min(80, Math.abs(weight) * 4)}px` })),
    el('td', { class: 'sources' }, (item.sources || []).slice(0, 6).join(' ')
      + ((item.sources || []).length > 6 ? ` … (${item.sources.length})` : '')));
}

function draw() {
  const item = state.items[state.index];
  $('pair').hidden = !item;
  $('empty').hidden = Boolean(item) || state.more;
  if (!item) return;
  $('score').textContent = item.score === null ? 'manual' : Number(item.score).toFixed(4);
  $('weight').textContent = item.weight === null ? '' : `${Number(item.weight).toFixed(1)} bits · ${item.method}`;
  $('position').textContent = `pair ${state.index + 1} of ${state.items.length}${state.more ? '+' : ''}`
    + (item.status !== 'proposed' ? ` · ${item.status}` : '');
  $('record-a').replaceChildren(...record(item.a));
  $('record-b').replaceChildren(...record(item.b));
  $('evidence').replaceChildren(...(item.evidence || []).map(evidenceRow));
  $('note').value = item.note || '';
  $('btn-prev').disabled = state.index === 0;
}

async function load(reset = false) {
  if (reset) Object.assign(state, { items: [], index: 0, after: null, more: false });
  state.busy = true;
  window.review.ready = false;
  try {
    const statuses = [$('status').value];
    const page = (await graphql('Candidates', CANDIDATES, {
      first: PAGE, after: state.after, statuses, minScore: Number($('min-score').value),
    })).resolutionCandidates;
    state.items.push(...page.items);
    state.after = page.pageInfo.endCursor;
    state.more = page.pageInfo.hasNextPage;
    message(state.items.length ? `${state.items.length} pair(s) loaded` : 'nothing to review');
  } catch (err) {
    message(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err), 'error');
  } finally {
    state.busy = false;
    draw();
    window.review.ready = true;
  }
}

async function move(step) {
  const next = state.index + step;
  if (next < 0) return;
  if (next >= state.items.length && state.more) await load();
  state.index = Math.min(next, state.items.length);
  draw();
}

async function decide(verdict) {
  const item = state.items[state.index];
  if (!item || state.busy) return;
  state.busy = true;
  window.review.ready = false;
  const note = $('note').value.trim() || null;
  try {
    const done = (await graphql('Judge', JUDGE, { a: item.a.id, b: item.b.id, verdict, note })).judge;
    state.judged.push({ a: item.a.id, b: item.b.id, verdict, by: done.by });
    message(`${verdict.toLowerCase()}: ${item.a.label} / ${item.b.label} (by ${done.by})`, 'done');
    state.items.splice(state.index, 1);
    if (state.index >= state.items.length && state.more) {
      state.busy = false;
      await load();
    }
  } catch (err) {
    message(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err), 'error');
  } finally {
    state.busy = false;
    draw();
    window.review.ready = true;
  }
}

function keys(event) {
  if (event.target instanceof HTMLTextAreaElement || event.target instanceof HTMLInputElement) {
    if (event.key === 'Escape') event.target.blur();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const actions = {
    c: () => decide('CONFIRMED'), r: () => decide('REJECTED'), u: () => decide('UNSURE'),
    j: () => move(1), ArrowRight: () => move(1), k: () => move(-1), ArrowLeft: () => move(-1),
    n: () => $('note').focus(),
  };
  const action = actions[event.key.length === 1 ? event.key.toLowerCase() : event.key];
  if (action) {
    event.preventDefault();
    action();
  }
}

function start() {
  const reviewer = $('reviewer');
  reviewer.value = localStorage.getItem('gracegraph.reviewer') || '';
  reviewer.addEventListener('change', () => localStorage.setItem('gracegraph.reviewer', reviewer.value.trim()));
  $('btn-confirm').addEventListener('click', () => decide('CONFIRMED'));
  $('btn-reject').addEventListener('click', () => decide('REJECTED'));
  $('btn-unsure').addEventListener('click', () => decide('UNSURE'));
  $('btn-next').addEventListener('click', () => move(1));
  $('btn-prev').addEventListener('click', () => move(-1));
  $('status').addEventListener('change', () => load(true));
  $('min-score').addEventListener('change', () => load(true));
  document.addEventListener('keydown', keys);
  load(true);
}

start();
