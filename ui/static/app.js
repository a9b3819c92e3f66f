// gracegraph's viewer: wires the search box, the chart, the side panel and the sidebar to the
// GraphQL API. Every request goes through `run`, which keeps the status line honest: what is
// being done, what came of it, or the server's error message and code.

import * as api from './js/api.js';
import { ChartDialog } from './js/charts.js';
import { CommunityList } from './js/communities.js';
import { Federation } from './js/federation.js';
import { el, plural } from './js/format.js';
import { GraphView } from './js/graph.js';
import { Panel } from './js/panel.js';
import { SearchBox } from './js/search.js';
import { Sidebar } from './js/sidebar.js';
import { PriorityList } from './js/priorities.js';
import { TrendsChart } from './js/trends.js';

const $ = (selector) => document.querySelector(selector);

class App {
  constructor() {
    this.requests = 0;
    this.view = new GraphView($('#chart'));
    this.sidebar = new Sidebar(this.view, {
      onTimeRange: ({ since, until }) => this.setTimeRange(since, until),
      onFindPaths: (from, to) => this.findPaths(from, to),
      onClearPaths: () => this.clearPaths(),
      onPickEnd: (id) => this.select([id], { focus: true }),
    });
    this.panel = new Panel($('#panel'), {
      expand: (ids) => this.expand(ids),
      pathFrom: (id) => this.sidebar.setEnd('from', id),
      pathTo: (id) => this.sidebar.setEnd('to', id),
      togglePin: (id) => {
        this.view.pin([id], !this.view.pinned.has(id));
        this.showSelection();
      },
      hide: (ids) => this.hide(ids),
      openReport: (key) => this.openReport(key),
      drawSubgraph: (subgraph, focusId) => this.draw(subgraph, focusId, 'The report’s contents'),
      select: (id) => this.select([id], { focus: true }),
      findPaths: (from, to) => this.findPaths(from, to),
      entityOf: (id) => this.view.entity(id),
      drawEntity: (id) => this.drawEntity(id),
    });
    this.federation = new Federation($('#federation'), this.view, {
      run: (doing, work) => this.run(doing, work),
      status: (text, level) => this.status(text, level),
      changed: () => this.refresh(),
      showResult: (result) => {
        this.view.network.unselectAll();
        this.panel.showFederation(result);
      },
    });
    this.search = new SearchBox($('#search'), $('#search-results'), {
      onPick: (entity) => this.open(entity),
      onError: (err) => this.fail('Search', err),
    });
    this.communities = new CommunityList($('#communities'), {
      onOpen: (id) => this.openCommunity(id),
      onError: (err) => this.fail('Loading the communities', err),
      changesRoot: $('#community-changes'),
    });
    $('#communities-refresh').addEventListener('click', () => this.run('Loading the communities', () => this.communities.load()));
    $('#colour-communities').addEventListener('change', () => this.colourCommunities());
    this.trends = new TrendsChart($('#trends'), {
      load: (bucket) => api.trends(bucket),
      onPickPeriod: (start, end) => this.sidebar.setPeriod(start, end),
    });
    this.priorities = new PriorityList($('#priorities'), {
      load: () => api.priorities(10),
      onOpen: (entity) => this.open(entity),
    });
    Promise.all([
      this.run('Loading trends', () => this.trends.refresh()),
      this.run('Ranking accounts', () => this.priorities.refresh()),
      this.run('Loading the communities', () => this.communities.load()),
    ]).then(() => {
      if (this.idle) this.status('Ready.');
    });
    this.charts = new ChartDialog($('#chart-dialog'), {
      run: (doing, work) => this.run(doing, work),
      status: (text, level) => this.status(text, level),
      state: () => this.view.chartState(),
      restore: (chart) => this.restoreChart(chart),
    });
    this._wireChart();
    this._wireToolbar();
    this._wireKeys();
    this.view.addEventListener('changed', () => this._scheduleRefresh());
    this.view.addEventListener('progress', (e) => {
      const { done, total } = e.detail;
      this.status(`Laying out ${plural(this.view.nodes.length, 'node')}… ${Math.round((100 * done) / total)}%`, 'busy');
    });
    this.view.addEventListener('layoutdone', () => {
      if (this.afterLayout) this.status(...this.afterLayout);
      this.afterLayout = null;
    });
    this.refresh();
  }

  /** True when nothing is pending: no request, no layout, no search waiting to be sent. */
  get idle() {
    return this.requests === 0 && !this.view.laying && !this.search.busy;
  }

  // ---- status --------------------------------------------------------------------------------

  status(text, level = 'info') {
    const line = $('#status');
    line.textContent = text;
    line.className = `status ${level}`;
  }

  /** Say what failed and why, with the API's code: an investigator must never mistake a failed
   * query for an empty answer. */
  fail(doing, err) {
    const code = err && err.code ? ` [${err.code}]` : '';
    this.status(`${doing} failed: ${err && err.message ? err.message : String(err)}${code}`, 'error');
    if (!(err instanceof api.ApiError)) console.error(err); // a bug of ours, not an answer
  }

  async run(doing, work) {
    this.requests += 1;
    this.status(`${doing}…`, 'busy');
    try {
      await work();
    } catch (err) {
      this.fail(doing, err);
    } finally {
      this.requests -= 1;
    }
  }

  truncated(what) {
    const pill = $('#truncated');
    pill.hidden = !what;
    if (what) {
      pill.textContent = 'Truncated';
      pill.title = `${what} was capped at the server's limit: not everything is drawn. Narrow the time range or expand single nodes.`;
    }
  }

  // ---- drawing -------------------------------------------------------------------------------

  open(entity) {
    this.view.userHidden.delete(entity.id);
    return this.run(`Loading the neighbourhood of ${entity.label}`, async () => {
      const expansion = this.sidebar.expansion();
      const subgraph = await api.neighbourhood([entity.id], expansion);
      await this.withLinks(subgraph, [entity.id]);
      this.draw(subgraph, entity.id, `The neighbourhood of ${entity.label}`, { tieSkipped: expansion.depth === 1 });
    });
  }

  expand(ids) {
    const list = [].concat(ids);
    const first = this.view.entity(list[0]);
    const what = list.length === 1 && first ? first.label : plural(list.length, 'node');
    return this.run(`Expanding ${what}`, async () => {
      const expansion = this.sidebar.expansion();
      const subgraph = await api.neighbourhood(list, expansion);
      await this.withLinks(subgraph, list);
      this.draw(subgraph, list.length === 1 ? list[0] : null, `Expanding ${what}`,
        { select: false, tieSkipped: list.length === 1 && expansion.depth === 1 });
    });
  }

  /** An account's network is more than its neighbourhood: the accounts it is linked to by scored
   * evidence (GraphQL `links`) join the subgraph, and the links are kept to be drawn as edges as
   * wide as their score. Only for a single account, the one the investigator asked about. */
  async withLinks(subgraph, ids) {
    subgraph.links = [];
    if (ids.length !== 1 || !ids[0].startsWith('Account:')) return;
    const found = await api.links(ids[0]);
    const have = new Set([...subgraph.nodes.map((n) => n.id), ...this.view.nodes.getIds()]);
    const missing = [...new Set(found.links.flatMap((l) => [l.a, l.b]))].filter((id) => !have.has(id));
    subgraph.nodes = subgraph.nodes.concat(await api.entities(missing));
    subgraph.links = found.links;
  }

  /** Merge a subgraph, lay out what is new, select the entity it is about. */
  draw(subgraph, focusId, what, { select = true, tieSkipped = false } = {}) {
    const first = this.view.nodes.length === 0;
    const added = this.view.merge(subgraph, { anchor: focusId, tieSkipped });
    if (subgraph.links && subgraph.links.length) this.view.addLinks(subgraph.links);
    this.truncated(subgraph.truncated ? what : null);
    const skippedNote = added.skipped && added.skipped.length ? `; ${plural(added.skipped.length, 'supernode')} not expanded` : '';
    const summary = (added.nodes.length || added.edges.length
      ? `${what}: ${plural(added.nodes.length, 'new node')}, ${plural(added.edges.length, 'new link')}`
      : `${what}: nothing new, all of it is already on the chart`) + skippedNote;
    const laying = first ? this.view.layout() : added.nodes.length ? this.view.layout(added.nodes) : false;
    const message = [subgraph.truncated ? `${summary} (truncated: more exist)` : summary, subgraph.truncated ? 'warn' : 'info'];
    if (laying) this.afterLayout = message;
    else this.status(...message);
    if (select && focusId && this.view.has(focusId)) this.select([focusId], { focus: !first });
    if ($('#colour-communities').checked && added.nodes.length) this.colourCommunities();
    this.refresh();
    this.loadIdentities();
  }

  /** Ring the accounts that entity resolution has joined into one identity (confirmed links). */
  async loadIdentities() {
    const ids = this.view.nodes.getIds().filter((id) => id.startsWith('Account:') || id.startsWith('Person:'));
    if (!ids.length) {
      this.view.setIdentities([]);
      return;
    }
    this.requests += 1;
    try {
      this.view.setIdentities(await api.identities(ids.slice(0, 2000)));
    } catch (err) {
      this.fail('Finding identities', err);
    } finally {
      this.requests -= 1;
    }
  }

  // ---- communities ---------------------------------------------------------------------------

  /** A community as its own chart (the chart is cleared first), its card in the panel. */
  openCommunity(id) {
    return this.run(`Opening community ${id}`, async () => {
      const card = await api.community(id);
      this.view.clear();
      this.truncated(null);
      this.draw(card.chart, null, `Community #${card.number}`, { select: false });
      this.panel.showCommunity(card); // the rings follow from draw() when colouring is on
    });
  }

  /** Ring the accounts on the chart in their community's colour (newest run), or take the rings off. */
  async colourCommunities() {
    const on = $('#colour-communities').checked;
    const accounts = on ? this.view.nodes.getIds({ filter: (n) => n.kind === 'Account' }) : [];
    if (!accounts.length) {
      this.view.setCommunities(new Map());
      return;
    }
    await this.run('Colouring by community', async () => {
      const found = await api.memberships(accounts);
      this.view.setCommunities(new Map(found.map((m) => [m.entity, m.number])));
      const communities = new Set(found.map((m) => m.community)).size;
      this.status(`${plural(found.length, 'account')} of ${accounts.length} on the chart in ${plural(communities, 'community', 'communities')} (rings).`);
    });
  }

  select(ids, { focus = false } = {}) {
    const shown = this.view.select(ids);
    if (focus && shown.length === 1) this.view.focus(shown[0]);
    this.showSelection();
  }

  hide(ids) {
    this.view.hide(ids);
    this.sidebar.refreshEnds();
    this.showSelection();
    this.status(`Hid ${plural(ids.length, 'node')}. “Show hidden” brings them back.`);
  }

  setTimeRange(since, until) {
    if (since !== null && until !== null && since > until) {
      this.status('The time range ends before it starts: nothing would be shown.', 'warn');
      return;
    }
    this.view.setTimeRange(since, until);
    this.status(since === null && until === null ? 'Time range cleared.' : 'Links outside the time range are hidden.');
  }

  /** One entity and its neighbourhood, by id (a federated hit off the chart). */
  drawEntity(id) {
    return this.run(`Drawing ${id}`, async () => {
      const [entity] = await api.entities([id]);
      if (!entity) throw new api.ApiError(`${id} is not in the graph`, 'NOT_FOUND');
      await this.open(entity);
    });
  }

  /** A saved chart replaces what is drawn, exactly as it was saved. */
  restoreChart(chart) {
    this.federation.clear();
    this.clearPaths();
    this.view.restore(chart.state, chart.graph);
    this.sidebar.showTimeRange(chart.state.since, chart.state.until);
    this.truncated(null);
    this.panel.showEmpty();
    this.refresh();
  }

  // ---- paths ---------------------------------------------------------------------------------

  findPaths(from, to) {
    if (!from || !to || from === to) {
      this.status('Choose two different nodes (Ctrl- or Shift-click, or “Path from” / “Path to”).', 'warn');
      return Promise.resolve();
    }
    this.sidebar.setEnd('from', from);
    this.sidebar.setEnd('to', to);
    const a = this.view.entity(from);
    const b = this.view.entity(to);
    const between = `${a ? a.label : from} and ${b ? b.label : to}`;
    const hops = this.sidebar.hops();
    return this.run(`Finding paths between ${between}`, async () => {
      const pathSet = await api.paths(from, to, hops);
      if (!pathSet.paths.length) {
        this.clearPaths();
        this.status(`No path of at most ${plural(hops, 'hop')} between ${between}.`, 'warn');
        return;
      }
      const nodes = new Map();
      const edges = new Map();
      for (const path of pathSet.paths) {
        for (const n of path.nodes) nodes.set(n.id, n);
        for (const e of path.edges) edges.set(e.id, e);
      }
      const added = this.view.merge({ nodes: [...nodes.values()], edges: [...edges.values()], truncated: false });
      this.view.highlightPaths(pathSet);
      this.sidebar.setHighlighted(true);
      this.view.network.unselectAll(); // the selection's own highlight would drown the paths'
      this.panel.showPaths(pathSet, this.view.entity(from), this.view.entity(to));
      const message = [`${plural(pathSet.paths.length, 'shortest path')} of ${plural(pathSet.length, 'hop')} between ${between} (highlighted).`, 'info'];
      if (added.nodes.length && this.view.layout(added.nodes)) this.afterLayout = message;
      else this.status(...message);
      this.refresh();
    });
  }

  clearPaths() {
    this.view.clearHighlight();
    this.sidebar.setHighlighted(false);
  }

  // ---- side panel ----------------------------------------------------------------------------

  showSelection() {
    const network = this.view.network;
    const nodes = network.getSelectedNodes();
    const edges = network.getSelectedEdges();
    if (nodes.length === 1) {
      this.panel.showEntity(this.view.entity(nodes[0]), {
        pinned: this.view.pinned.has(nodes[0]), federated: this.federation.hitsOf(nodes[0]),
      });
    } else if (nodes.length > 1) {
      this.panel.showMany(nodes.map((id) => this.view.entity(id)).filter(Boolean));
      this.sidebar.setEnd('from', nodes[0]);
      this.sidebar.setEnd('to', nodes[1]);
    } else if (edges.length === 1) {
      const edge = this.view.edgeEntity(edges[0]);
      const from = this.view.entity(edge.source);
      const to = this.view.entity(edge.target);
      if (edge.link) this.panel.showLink(edge.link, from, to);
      else if (edge.skipped) this.panel.showSkipped(edge.skipped, from, to);
      else this.panel.showEdge(edge, from, to);
    } else {
      this.panel.showEmpty();
    }
  }

  openReport(key) {
    this.panel.rememberForBack();
    this.panel.showLoading(`Loading report ${key}…`);
    return this.run(`Opening report ${key}`, async () => {
      const view = await api.report(key);
      this.panel.showReport(view);
      this.status(`Report ${key}: ${plural(view.contents.nodes.length - 1, 'entity', 'entities')} named.`);
    });
  }

  // ---- wiring --------------------------------------------------------------------------------

  _wireChart() {
    const network = this.view.network;
    let before = [];
    // vis-network knows Ctrl-click for adding to a selection; Shift-click is the other habit
    // (i2, Linkurious). Remember the selection as the pointer goes down, before vis replaces it.
    $('#chart').addEventListener('pointerdown', () => {
      before = network.getSelectedNodes();
    }, true);
    network.on('click', (params) => {
      const shift = params.event && params.event.srcEvent && params.event.srcEvent.shiftKey;
      const pointed = params.pointer.canvas ? this.view.badgeAt(params.pointer.canvas) : null;
      if (pointed && !params.nodes.length) network.selectNodes([pointed]); // a pointer stands for its node
      const hit = network.getNodeAt(params.pointer.DOM);
      if (shift && hit !== undefined) {
        const next = before.includes(hit) ? before.filter((id) => id !== hit) : [...before, hit];
        network.selectNodes(next);
      }
      this.showSelection();
    });
    network.on('doubleClick', (params) => {
      if (params.nodes.length) this.expand(params.nodes[0]);
    });
  }

  _wireToolbar() {
    $('#btn-fit').addEventListener('click', () => this.view.fit());
    $('#btn-relayout').addEventListener('click', () => {
      if (this.view.layout()) this.afterLayout = ['Chart laid out again.', 'info'];
    });
    $('#btn-unhide').addEventListener('click', () => {
      const n = this.view.userHidden.size;
      this.view.unhideAll();
      this.status(`${plural(n, 'hidden node')} shown again.`);
    });
    $('#btn-save-chart').addEventListener('click', () => this.charts.openSave());
    $('#btn-open-chart').addEventListener('click', () => this.charts.openOpen());
    $('#btn-export-chart').addEventListener('click', () => this.charts.openExport());
    $('#btn-export').addEventListener('click', () => {
      const link = el('a', { href: this.view.toPng(), download: 'gracegraph-chart.png' });
      link.click();
    });
    $('#btn-clear').addEventListener('click', () => {
      this.federation.clear();
      this.view.clear();
      this.truncated(null);
      this.sidebar.setHighlighted(false);
      this.sidebar.refreshEnds();
      this.panel.showEmpty();
      this.status('Chart cleared.');
    });
  }

  _wireKeys() {
    document.addEventListener('keydown', (e) => {
      if (e.target.closest('input, select, textarea, dialog')) return;
      const selected = this.view.network.getSelectedNodes();
      if ((e.key === 'Delete' || e.key === 'Backspace') && selected.length) {
        e.preventDefault();
        this.hide(selected);
      } else if (e.key === 'Escape') {
        this.view.network.unselectAll();
        this.showSelection();
      } else if (e.key === 'f' && !e.ctrlKey && !e.metaKey) {
        this.view.fit();
      }
    });
  }

  _scheduleRefresh() {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    requestAnimationFrame(() => {
      this.refreshQueued = false;
      this.refresh();
    });
  }

  /** Legend, counters and buttons follow what is on the chart. */
  refresh() {
    const view = this.view;
    this.sidebar.refreshLegend();
    this.sidebar.refreshEnds();
    const total = view.nodes.length;
    const shown = view.nodes.get({ filter: (n) => !n.hidden }).length;
    const links = view.edges.length;
    const linksShown = view.edges.get({ filter: (e) => !e.hidden }).length;
    $('#counts').textContent = total
      ? `${shown.toLocaleString('en')} of ${plural(total, 'node')} · ${linksShown.toLocaleString('en')} of ${plural(links, 'link')} shown`
      : 'Empty chart';
    $('#chart-empty').hidden = total > 0;
    const unhide = $('#btn-unhide');
    unhide.disabled = view.userHidden.size === 0;
    unhide.textContent = view.userHidden.size ? `Show hidden (${view.userHidden.size})` : 'Show hidden';
  }
}

if (!window.vis) {
  // Without the chart library nothing else works: say which file is missing, in the page itself.
  const line = $('#status');
  line.textContent = 'The viewer could not start: static/vis/vis-network.min.js did not load.';
  line.className = 'status error';
  throw new Error('vis-network did not load');
}

export const app = new App();

// A small window on the chart for tests and for the curious: the vis Network and its DataSets.
window.gracegraph = {
  network: app.view.network,
  nodes: app.view.nodes,
  edges: app.view.edges,
  get ready() {
    return app.idle;
  },
  get identities() {
    return app.view.identities;
  },
  /** Pointers from peer agencies: node id -> peers marked, and the tags as last drawn (canvas units). */
  get federation() {
    return {
      marked: Object.fromEntries([...app.view.federated].map(([id, marks]) => [id, marks.map((m) => m.peer)])),
      badges: app.view.badges,
    };
  },
};
