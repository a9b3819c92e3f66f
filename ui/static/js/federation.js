// Federated deconfliction in the viewer: ask the peer instances (other agencies' gracegraph, in
// peers.yaml) whether they hold any identifier on the chart, or of a case, and keep what comes
// back as pointers on the nodes it concerns. A pointer is all the protocol reveals (docs/
// federation.md): which of OUR identifiers, its kind, the peer agency, its contact and an opaque
// reference the peer resolves on its side. Nothing of the peer's case ever reaches this page.
//
// Each active peer is asked in its own `federatedDeconflict` call, so one peer that refuses or
// cannot be reached is said plainly next to the others' answers instead of failing them all.

import * as api from './api.js';
import { el, formatTime, plural } from './format.js';

/** Kinds a peer can hold (graph_service/federation/sources.py FEDERATED_LABELS). */
export const FEDERATED_KINDS = ['Account', 'Email', 'Phone', 'Device', 'File', 'IP'];
const LABEL_OF_KIND = { account: 'Account', email: 'Email', phone: 'Phone', device: 'Device', file: 'File', ip: 'IP' };
/** One colour per peer, apart from the kinds' colours; the pointer's text names the peer too. */
const PEER_COLOURS = ['#db2777', '#0f766e', '#9333ea', '#b45309', '#1d4ed8', '#4d7c0f'];
const MAX_ENTITIES = 5000; // the server's cap on one question (sources.MAX_ENTITIES)

export const STATUS_TEXT = {
  answered: 'answered', refused: 'refused', unreachable: 'unreachable', 'rate-limited': 'rate limit reached',
  revoked: 'revoked: not asked', failed: 'failed',
};

/** The chart node a hit points at. Our reference is the entity id (a chart's question) or
 * `<case>:<kind>:<key>` (a case's); an IP's ends in `@<moment>`, the use that matched. */
export function nodeOf(hit, caseKey = null) {
  let ref = hit.mine;
  if (caseKey !== null && ref.startsWith(`${caseKey}:`)) {
    ref = ref.slice(caseKey.length + 1);
    const kind = ref.slice(0, ref.indexOf(':'));
    ref = `${LABEL_OF_KIND[kind] || kind}:${ref.slice(kind.length + 1)}`;
  }
  return hit.kind === 'ip' && ref.includes('@') ? ref.slice(0, ref.indexOf('@')) : ref;
}

/** The moment of the IP use that matched, or null. */
export function useOf(hit) {
  return hit.kind === 'ip' && hit.mine.includes('@') ? hit.mine.slice(hit.mine.lastIndexOf('@') + 1) : null;
}

/** What a failed call means for the investigator, from the server's message (client.py words it). */
function statusOf(err) {
  const message = (err && err.message) || '';
  if (/did not answer/.test(message)) return 'unreachable';
  if (/rate limit/i.test(message)) return 'rate-limited';
  if (/refused/.test(message)) return 'refused';
  return 'failed';
}

export class Federation {
  /** `actions`: run(doing, work), status(text, level), changed() (redraw legend, pointers, panel),
   * showResult(result). */
  constructor(root, view, actions) {
    this.root = root;
    this.view = view;
    this.actions = actions;
    this.result = null;
    this.askButton = root.querySelector('#btn-federation-ask');
    this.caseInput = root.querySelector('#federation-case');
    this.caseButton = root.querySelector('#btn-federation-case');
    this.list = root.querySelector('#federation-peers');
    this.note = root.querySelector('#federation-note');
    this.clearButton = root.querySelector('#federation-clear');
    this.askButton.addEventListener('click', () => this.ask());
    this.caseButton.addEventListener('click', () => {
      const key = this.caseInput.value.trim();
      if (key) this.ask({ caseKey: key });
      else this.actions.status('Type the key of a case to ask about.', 'warn');
    });
    this.caseInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') this.caseButton.click();
    });
    this.clearButton.addEventListener('click', () => this.clear());
  }

  /** The hits pointing at node `id` (empty when none, or nothing asked yet). */
  hitsOf(id) {
    return (this.result && this.result.byNode.get(id)) || [];
  }

  /** Ask every active peer about the chart's identifiers (or case `caseKey`'s). */
  ask({ caseKey = null } = {}) {
    let ids = null;
    if (caseKey === null) {
      ids = this.view.nodes.get({ filter: (n) => FEDERATED_KINDS.includes(n.kind) && !n.hidden }).map((n) => n.id);
      if (!ids.length) {
        this.actions.status('Nothing on the chart a peer could hold: draw accounts, emails, phones, IP addresses, devices or files first.', 'warn');
        return Promise.resolve();
      }
      if (ids.length > MAX_ENTITIES) {
        this.actions.status(`Only the first ${MAX_ENTITIES.toLocaleString('en')} identifiers are asked about.`, 'warn');
        ids = ids.slice(0, MAX_ENTITIES);
      }
    }
    const subject = caseKey === null ? plural(ids.length, 'identifier') + ' on the chart' : `case ${caseKey}`;
    return this.actions.run(`Asking peer agencies about ${subject}`, async () => {
      let peers;
      try {
        peers = await api.federationPeers();
      } catch (err) {
        if (!(err instanceof api.ApiError) || err.code !== 'UNAVAILABLE') throw err;
        this._setUnavailable(`Federation is not set up on this instance: ${err.message}`);
        return;
      }
      if (!peers.length) {
        this._setUnavailable('No peer agencies are configured (peers.yaml is empty): an administrator adds them with `gracegraph federation add-peer`.');
        return;
      }
      const active = peers.filter((p) => !p.revoked);
      const askOne = (peer) => api.federatedDeconflict({ entities: ids, caseKey, peer: peer.name })
        .then((hits) => ({ hits }), (error) => ({ error }));
      // The first peer alone: our blinded values are computed (and cached) once, then reused.
      const answers = active.length ? [await askOne(active[0]), ...await Promise.all(active.slice(1).map(askOne))] : [];
      const mistake = answers.find((a) => a.error && !(a.error instanceof api.ApiError && a.error.code === 'UNAVAILABLE'));
      if (mistake) throw mistake.error; // our question was wrong (no such case, hidden entity): no peer is to blame
      this._setResult(peers, active, answers, { caseKey, asked: ids ? ids.length : null });
    });
  }

  _setResult(peers, active, answers, { caseKey, asked }) {
    const statuses = peers.map((peer, i) => {
      const colour = PEER_COLOURS[i % PEER_COLOURS.length];
      const at = active.indexOf(peer);
      if (at === -1) return { ...peer, colour, status: 'revoked', message: null, hits: [] };
      const answer = answers[at];
      if (answer.error) return { ...peer, colour, status: statusOf(answer.error), message: answer.error.message, hits: [] };
      return { ...peer, colour, status: 'answered', message: null, hits: answer.hits };
    });
    const askedAt = new Date().toISOString();
    const hits = statuses.flatMap((s) => s.hits.map((h) => ({ ...h, colour: s.colour, node: nodeOf(h, caseKey), use: useOf(h), askedAt })));
    const byNode = new Map();
    for (const hit of hits) {
      if (!byNode.has(hit.node)) byNode.set(hit.node, []);
      byNode.get(hit.node).push(hit);
    }
    this.result = { caseKey, asked, askedAt, peers: statuses, hits, byNode };
    this._applyMarks();
    this._render();
    const onChart = [...byNode.keys()].filter((id) => this.view.has(id)).length;
    const failed = statuses.filter((s) => s.status !== 'answered' && s.status !== 'revoked');
    const answered = statuses.filter((s) => s.status === 'answered');
    const text = `${answered.length} of ${plural(active.length, 'peer')} answered: `
      + (hits.length ? `${plural(byNode.size, 'identifier')} held elsewhere${caseKey ? ` (${onChart} on the chart)` : ''}, marked with pointers`
        : 'no identifier held by any of them')
      + (failed.length ? `; ${failed.map((s) => `${s.name} ${STATUS_TEXT[s.status]}`).join(', ')}` : '') + '.';
    this.actions.status(text, failed.length ? 'warn' : 'info');
    this.actions.showResult(this.result);
    this.actions.changed();
  }

  _setUnavailable(message) {
    this.result = null;
    this._applyMarks();
    this.list.replaceChildren(el('li', { class: 'peer-row', 'data-status': 'none' }, el('span', { class: 'peer-status' }, message)));
    this.note.textContent = '';
    this.clearButton.hidden = true;
    this.actions.status(message, 'warn');
    this.actions.changed();
  }

  /** Hand the pointers to the chart: node id -> one mark per peer holding it. */
  _applyMarks() {
    const marks = new Map();
    for (const [id, hits] of this.result ? this.result.byNode : []) {
      const byPeer = new Map();
      for (const hit of hits) if (!byPeer.has(hit.peer)) byPeer.set(hit.peer, { peer: hit.peer, agency: hit.agency, colour: hit.colour, count: 0 });
      for (const hit of hits) byPeer.get(hit.peer).count += 1;
      marks.set(id, [...byPeer.values()]);
    }
    this.view.setFederated(marks);
  }

  _render() {
    const r = this.result;
    this.list.replaceChildren(...r.peers.map((p) => el('li', { class: 'peer-row', 'data-peer': p.name, 'data-status': p.status, title: p.message || `${p.agency} · ${p.contact}` },
      el('span', { class: 'swatch pointer', style: `--fill: ${p.colour}` }),
      el('span', { class: 'peer-name' }, `${p.agency} (${p.name})`),
      el('span', { class: `peer-status ${p.status}` }, p.status === 'answered' ? plural(new Set(p.hits.map((h) => h.node)).size, 'hit') : STATUS_TEXT[p.status]))));
    this.note.textContent = r.caseKey
      ? `Asked ${formatTime(r.askedAt)} about case ${r.caseKey}; hits off the chart are listed in the panel.`
      : `Asked ${formatTime(r.askedAt)} about ${plural(r.asked, 'identifier')}; nodes drawn since were not asked.`;
    this.clearButton.hidden = false;
  }

  /** Drop the answers and their pointers (a new chart, or the investigator's wish). */
  clear() {
    if (!this.result) return;
    this.result = null;
    this._applyMarks();
    this.list.replaceChildren();
    this.note.textContent = '';
    this.clearButton.hidden = true;
    this.actions.changed();
  }
}
