// The link chart: vis-network over two DataSets that hold what is drawn. Knows how an entity or a
// relationship looks, how it is laid out (new nodes placed by placement.js), which are hidden by
// filters, and how paths are marked; knows nothing of the server.

import { edgeTitle, edgeWidth, linkTitle, linkWidth, nodeTitle, skippedTitle } from './describe.js';
import { shorten, toMillis } from './format.js';
import { communityColour } from './communities.js';
import { kindStyle } from './kinds.js';
import { placeNew } from './placement.js';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif';
const EDGE_COLOUR = '#a3b1c2';
const EDGE_SELECTED = '#2563eb';
const PATH_COLOUR = '#f59e0b';
const FOCUS_BORDER = '#0f172a';
const LABEL = '#1e293b';
const LABEL_FADED = '#a0aec0';
/** Supernodes (CGNAT and exit addresses, files everyone has, providers): drawn as an amber diamond
 * with a dashed border, never expanded unless the investigator asks. */
export const SUPERNODE = { colour: '#fde68a', border: '#b45309' };
/** Scored links between accounts (queries/links.py): violet, as thick as the score is strong. */
export const LINK_COLOUR = '#7c3aed';
export const LINK_KIND = 'LINKED';
/** Past this many nodes the chart drops the costly niceties: edges hide while dragging/zooming,
 * and the layout runs fewer iterations. */
const LARGE = 1000;

const OPTIONS = {
  autoResize: true,
  // improvedLayout (Kamada-Kawai seeding) is quadratic and stalls the tab on big graphs; we place
  // new nodes ourselves, next to the node they hang from, and let a bounded stabilisation finish.
  layout: { improvedLayout: false, randomSeed: 11 },
  physics: {
    enabled: false,
    solver: 'forceAtlas2Based',
    forceAtlas2Based: {
      gravitationalConstant: -90, centralGravity: 0.01, springLength: 120, springConstant: 0.06,
      damping: 0.55, avoidOverlap: 0.6,
    },
    maxVelocity: 60,
    minVelocity: 0.9,
    timestep: 0.45,
    adaptiveTimestep: true,
    stabilization: { enabled: true, iterations: 400, updateInterval: 25, fit: false },
  },
  interaction: {
    hover: true, multiselect: true, keyboard: false, tooltipDelay: 200, navigationButtons: false,
    selectConnectedEdges: true, hoverConnectedEdges: true, zoomSpeed: 0.8,
  },
  nodes: {
    shape: 'circularImage',
    borderWidth: 2,
    borderWidthSelected: 4,
    size: 18,
    font: { face: FONT, size: 12, color: LABEL, strokeWidth: 4, strokeColor: '#ffffff', vadjust: -2 },
    // Labels too small to read are not drawn: a zoomed-out chart shows its shape, not grey fuzz.
    scaling: { min: 14, max: 34, label: { enabled: false, drawThreshold: 8 } },
  },
  edges: {
    width: 1.2,
    selectionWidth: 1.5,
    hoverWidth: 0.8,
    color: { color: EDGE_COLOUR, highlight: EDGE_SELECTED, hover: '#64748b', inherit: false },
    arrows: { to: { enabled: true, scaleFactor: 0.45 } },
    arrowStrikethrough: false,
    smooth: false,
    font: { face: FONT, size: 8, color: '#64748b', strokeWidth: 3, strokeColor: '#ffffff', align: 'middle' },
    scaling: { label: { drawThreshold: 6 } },
  },
};

export class GraphView extends EventTarget {
  constructor(container) {
    super();
    this.nodes = new vis.DataSet();
    this.edges = new vis.DataSet();
    this.pinned = new Set();
    this.userHidden = new Set();
    this.hiddenKinds = new Set();
    this.since = null; // ms since epoch, or null: the time filter on relationships
    this.until = null;
    this.pathNodes = new Set();
    this.pathEdges = new Set();
    this.degree = new Map();
    this.communityOf = new Map(); // node id -> community number, when colouring by community
    this.frozen = [];
    this.fitAfter = false;
    this.laying = false;
    this.network = new vis.Network(container, { nodes: this.nodes, edges: this.edges }, OPTIONS);
    this.network.on('stabilizationProgress', (p) => this._emit('progress', { done: p.iterations, total: p.total }));
    this.network.on('stabilizationIterationsDone', () => this._layoutDone());
    this.network.on('dragEnd', (p) => {
      if (p.nodes.length) this.pin(p.nodes, true); // an investigator who places a node means it to stay
    });
    this.identities = []; // resolved identities with members on the chart: drawn as rings behind them
    this.network.on('beforeDrawing', (ctx) => this._drawIdentities(ctx));
    this.federated = new Map(); // node id -> [{peer, agency, colour, count}]: pointers from peer agencies
    this.badges = []; // the pointers as last drawn, in canvas coordinates (for clicks and tests)
    this.network.on('afterDrawing', (ctx) => this._drawFederated(ctx));
  }

  /** Pointers from peer agencies (federation.js): each node of `marks` gets one tag per peer that
   * holds it, drawn on top of the node; an empty map takes them all off. */
  setFederated(marks) {
    this.federated = new Map(marks);
    this.network.redraw();
  }

  _drawFederated(ctx) {
    this.badges = [];
    for (const [id, marks] of this.federated) {
      const node = this.nodes.get(id);
      const body = this.network.body.nodes[id];
      if (!node || node.hidden || !body) continue;
      const r = body.options.size || 18;
      // A tag above the node's upper right, its tail touching the node: a pointer, as i2's glyphs.
      const tipX = body.x + r * 0.62;
      const tipY = body.y - r * 0.62;
      ctx.save();
      ctx.globalAlpha = node.faded ? 0.35 : 1;
      ctx.font = `700 10px ${FONT}`;
      let y = tipY - 10;
      for (const mark of marks) {
        const text = `${mark.peer.toUpperCase().slice(0, 10)}${mark.count > 1 ? ` ×${mark.count}` : ''}`;
        const w = ctx.measureText(text).width + 12;
        const h = 15;
        const x = tipX + 4;
        const top = y - h;
        ctx.beginPath();
        ctx.moveTo(tipX, tipY);
        ctx.lineTo(x + 4, y - 1);
        ctx.lineTo(x + 11, y - 1);
        ctx.closePath();
        ctx.fillStyle = mark.colour;
        ctx.fill();
        roundRect(ctx, x, top, w, h, 7);
        ctx.fillStyle = mark.colour;
        ctx.fill();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = '#ffffff';
        ctx.stroke();
        ctx.fillStyle = '#ffffff';
        ctx.textAlign = 'left';
        ctx.textBaseline = 'middle';
        ctx.fillText(text, x + 6, top + h / 2 + 0.5);
        this.badges.push({ node: id, peer: mark.peer, colour: mark.colour, x, y: top, w, h });
        y = top - 3;
      }
      ctx.restore();
    }
  }

  /** The node whose pointer is at canvas point `p`, or null. */
  badgeAt(p) {
    const hit = this.badges.find((b) => p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h);
    return hit ? hit.node : null;
  }

  /** Identities from the API ({entity, members}); each is drawn around its members on the chart. */
  setIdentities(list) {
    this.identities = list.map((item) => ({
      id: item.entity.id,
      label: item.entity.properties.name || item.entity.label,
      members: item.members.map((m) => m.id),
    }));
    this.network.redraw();
  }

  _drawIdentities(ctx) {
    for (const identity of this.identities) {
      const shown = identity.members.filter((id) => {
        const node = this.nodes.get(id);
        return node && !node.hidden;
      });
      if (shown.length < 2) continue;
      const points = Object.values(this.network.getPositions(shown));
      const cx = points.reduce((s, p) => s + p.x, 0) / points.length;
      const cy = points.reduce((s, p) => s + p.y, 0) / points.length;
      const r = Math.max(...points.map((p) => Math.hypot(p.x - cx, p.y - cy))) + 42;
      ctx.save();
      ctx.beginPath();
      ctx.arc(cx, cy, r, 0, 2 * Math.PI);
      ctx.fillStyle = 'rgba(124, 58, 237, 0.07)';
      ctx.fill();
      ctx.setLineDash([8, 6]);
      ctx.lineWidth = 2;
      ctx.strokeStyle = 'rgba(124, 58, 237, 0.55)';
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = `600 13px ${FONT}`;
      ctx.fillStyle = '#6d28d9';
      ctx.textAlign = 'center';
      ctx.fillText(`Identity: ${identity.label} (${shown.length})`, cx, cy - r - 8);
      ctx.restore();
    }
  }

  _emit(type, detail = null) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  has(id) {
    return this.nodes.get(id) !== null;
  }

  entity(id) {
    const item = this.nodes.get(id);
    return item ? item.entity : null;
  }

  edgeEntity(id) {
    const item = this.edges.get(id);
    return item ? item.entity : null;
  }

  /** Add a subgraph to the chart; nodes already drawn stay where they are. Returns the new ids. */
  merge(subgraph, { anchor = null, tieSkipped = false } = {}) {
    const positions = this.network.getPositions();
    const drawnBefore = this.nodes.length;
    const fresh = [];
    const refreshed = [];
    for (const entity of subgraph.nodes) {
      if (this.nodes.get(entity.id)) {
        refreshed.push({ id: entity.id, entity, label: shorten(entity.label, 26), title: nodeTitle(entity) });
      }
      else fresh.push(entity);
    }
    this.nodes.update(refreshed);
    let placements = new Map();
    if (drawnBefore) {
      placements = placeNew(fresh, subgraph.edges, positions, anchor, this.network.getViewPosition());
    } else if (anchor && fresh.some((n) => n.id === anchor)) {
      // A first drawing grows out of the entity it is about: a tree of fans is a seed the bounded
      // layout can finish, where random positions would leave a big chart tangled.
      const seed = { [anchor]: { x: 0, y: 0 } };
      placements = placeNew(fresh.filter((n) => n.id !== anchor), subgraph.edges, seed, anchor, seed[anchor]);
      placements.set(anchor, seed[anchor]);
    }
    this.nodes.add(fresh.map((entity) => this._nodeItem(entity, placements.get(entity.id))));

    const newEdges = subgraph.edges.filter((e) => !this.edges.get(e.id));
    this.edges.update(subgraph.edges.filter((e) => this.edges.get(e.id)).map((e) => ({
      id: e.id, entity: e, title: edgeTitle(e, this.entity(e.source), this.entity(e.target)),
    })));
    this.edges.add(newEdges.map((e) => this._edgeItem(e)));
    this._updateDegrees(newEdges);
    const near = placements.get(anchor) || positions[anchor] || null;
    const collapsed = this._addSkipped(subgraph.skipped || [], tieSkipped ? anchor : null, near);
    this.applyFilters();
    return { nodes: [...fresh.map((n) => n.id), ...collapsed], edges: newEdges.map((e) => e.id), skipped: subgraph.skipped || [] };
  }

  /** Supernodes an expansion met but did not enter: each drawn once, collapsed (not expanded), tied
   * by a dashed line to the entity whose expansion met it when that is certain (one entity expanded
   * one level: its skipped hubs are its own neighbours). Returns the ids newly drawn. */
  _addSkipped(skipped, anchor, near) {
    const fresh = skipped.filter((s) => !this.nodes.get(s.id));
    this.nodes.add(fresh.map((s, i) => {
      const [kind, ...rest] = s.id.split(':');
      const key = rest.join(':');
      const entity = {
        id: s.id, kind, key, label: key, sources: [], collapsed: true,
        properties: { supernode: true, supernode_reason: s.reason, degree: s.degree },
      };
      const item = this._nodeItem(entity);
      if (near) {
        const angle = (2 * Math.PI * i) / Math.max(fresh.length, 1);
        Object.assign(item, { x: near.x + 170 * Math.cos(angle), y: near.y + 170 * Math.sin(angle) });
      }
      return item;
    }));
    if (anchor && this.nodes.get(anchor)) {
      const ties = skipped.filter((s) => s.id !== anchor).map((s) => ({
        id: `skipped:${anchor}|${s.id}`, from: anchor, to: s.id, kind: 'SKIPPED', skipped: s,
        entity: { id: `skipped:${anchor}|${s.id}`, kind: 'SKIPPED', source: anchor, target: s.id, properties: {}, sources: [], skipped: s },
        title: skippedTitle(s), t0: null, t1: null, baseWidth: 1, width: 1, dashes: [6, 5], arrows: { to: { enabled: false } },
        color: { color: SUPERNODE.border, highlight: SUPERNODE.border, hover: SUPERNODE.border },
      })).filter((e) => !this.edges.get(e.id));
      this.edges.add(ties);
    }
    return fresh.map((s) => s.id);
  }

  /** Scored links between accounts (GraphQL `links`), drawn as edges as wide as their score; each
   * keeps its evidence for the "why linked?" panel. Links to accounts not on the chart are left out
   * (the caller draws those accounts first). Returns the ids of the links added or refreshed. */
  addLinks(links) {
    const items = links.filter((l) => this.nodes.get(l.a) && this.nodes.get(l.b)).map((link) => {
      const id = `${LINK_KIND}:${link.a}|${link.b}`;
      const sources = [...new Set(link.evidence.flatMap((e) => e.reports))].sort();
      const entity = { id, kind: LINK_KIND, source: link.a, target: link.b, properties: { score: link.score }, sources, link };
      const width = linkWidth(link.score);
      return {
        id, from: link.a, to: link.b, kind: LINK_KIND, entity, label: link.score.toFixed(2),
        title: linkTitle(link, this.entity(link.a), this.entity(link.b)), t0: null, t1: null,
        baseWidth: width, width, score: link.score, arrows: { to: { enabled: false } },
        color: { color: LINK_COLOUR, highlight: EDGE_SELECTED, hover: LINK_COLOUR, opacity: 0.75 },
      };
    });
    const fresh = items.filter((e) => !this.edges.get(e.id));
    this.edges.update(items);
    this._updateDegrees(fresh.map((e) => ({ source: e.from, target: e.to })));
    this.applyFilters();
    return items.map((e) => e.id);
  }

  _nodeItem(entity, position) {
    const style = kindStyle(entity.kind);
    const item = {
      id: entity.id,
      kind: entity.kind,
      entity,
      label: shorten(entity.label, 26),
      image: style.image,
      color: this._nodeColour(style, false, entity.id),
      borderWidth: this.communityOf.has(entity.id) ? 5 : 2,
      title: nodeTitle(entity),
      value: this.degree.get(entity.id) || 0,
      hidden: this._nodeHidden(entity.id, entity.kind),
    };
    if (isSupernode(entity)) {
      Object.assign(item, {
        supernode: true, shape: 'diamond', size: 22, color: this._supernodeColour(false),
        shapeProperties: { borderDashes: [4, 3] }, borderWidth: 3,
        label: shorten(`${entity.label} · ${entity.properties.supernode_reason || 'supernode'}`, 32),
        title: skippedTitle({ id: entity.id, reason: entity.properties.supernode_reason, degree: entity.properties.degree }),
      });
    }
    if (position) Object.assign(item, position);
    return item;
  }

  _supernodeColour(onPath) {
    const border = onPath ? PATH_COLOUR : SUPERNODE.border;
    return {
      background: SUPERNODE.colour, border,
      highlight: { background: SUPERNODE.colour, border: onPath ? PATH_COLOUR : FOCUS_BORDER },
      hover: { background: SUPERNODE.colour, border: onPath ? PATH_COLOUR : FOCUS_BORDER },
    };
  }

  _nodeColour(style, onPath, id = null) {
    const ring = id !== null && this.communityOf.has(id) ? communityColour(this.communityOf.get(id)) : null;
    const border = onPath ? PATH_COLOUR : ring || style.border;
    return {
      background: style.colour,
      border,
      highlight: { background: style.colour, border: onPath ? PATH_COLOUR : FOCUS_BORDER },
      hover: { background: style.colour, border: onPath ? PATH_COLOUR : FOCUS_BORDER },
    };
  }

  _edgeItem(edge) {
    const p = edge.properties || {};
    const t0 = toMillis(p.first_seen);
    const t1 = toMillis(p.last_seen) ?? t0;
    const width = edgeWidth(edge);
    return {
      id: edge.id,
      from: edge.source,
      to: edge.target,
      kind: edge.kind,
      entity: edge,
      label: edge.kind,
      title: edgeTitle(edge, this.entity(edge.source), this.entity(edge.target)),
      t0,
      t1,
      baseWidth: width,
      width,
      color: { color: EDGE_COLOUR, highlight: EDGE_SELECTED, hover: '#64748b' },
    };
  }

  _updateDegrees(newEdges) {
    const touched = new Set();
    for (const e of newEdges) {
      for (const id of [e.source, e.target]) {
        this.degree.set(id, (this.degree.get(id) || 0) + 1);
        touched.add(id);
      }
    }
    this.nodes.update([...touched].filter((id) => this.nodes.get(id)).map((id) => ({ id, value: this.degree.get(id) })));
  }

  // ---- filters -------------------------------------------------------------------------------

  _nodeHidden(id, kind) {
    if (this.pathNodes.has(id)) return false; // a highlighted path is never half hidden
    return this.userHidden.has(id) || this.hiddenKinds.has(kind);
  }

  _edgeHidden(edge) {
    const from = this.nodes.get(edge.from);
    const to = this.nodes.get(edge.to);
    if (!from || !to || this._nodeHidden(from.id, from.kind) || this._nodeHidden(to.id, to.kind)) return true;
    if (this.pathEdges.has(edge.id)) return false;
    // Relationships without times (an email of an account) are timeless: the range cannot rule them out.
    if (this.since !== null && edge.t1 !== null && edge.t1 < this.since) return true;
    if (this.until !== null && edge.t0 !== null && edge.t0 > this.until) return true;
    return false;
  }

  /** Hide what the filters exclude; fade nodes whose every link is outside the time range, so an
   * isolated-looking node is never mistaken for one that has no links at all. */
  applyFilters() {
    const nodeChanges = [];
    this.nodes.forEach((n) => {
      const hidden = this._nodeHidden(n.id, n.kind);
      if (Boolean(n.hidden) !== hidden) nodeChanges.push({ id: n.id, hidden });
    });
    this.nodes.update(nodeChanges);
    const edgeChanges = [];
    const linked = new Set();
    const shown = new Set();
    this.edges.forEach((e) => {
      const hidden = this._edgeHidden(e);
      if (Boolean(e.hidden) !== hidden) edgeChanges.push({ id: e.id, hidden });
      linked.add(e.from).add(e.to);
      if (!hidden) shown.add(e.from).add(e.to);
    });
    this.edges.update(edgeChanges);
    const fadeChanges = [];
    this.nodes.forEach((n) => {
      const faded = linked.has(n.id) && !shown.has(n.id);
      if (Boolean(n.faded) !== faded) {
        fadeChanges.push({ id: n.id, faded, opacity: faded ? 0.3 : 1, font: { color: faded ? LABEL_FADED : LABEL } });
      }
    });
    this.nodes.update(fadeChanges);
    this._emit('changed');
  }

  setKindVisible(kind, visible) {
    if (visible) this.hiddenKinds.delete(kind);
    else this.hiddenKinds.add(kind);
    this.applyFilters();
  }

  setTimeRange(since, until) {
    this.since = since;
    this.until = until;
    this.applyFilters();
  }

  hide(ids) {
    for (const id of ids) {
      this.userHidden.add(id);
      this.pathNodes.delete(id);
    }
    this.network.unselectAll();
    this.applyFilters();
  }

  unhideAll() {
    this.userHidden.clear();
    this.applyFilters();
  }

  pin(ids, on) {
    for (const id of ids) {
      if (on) this.pinned.add(id);
      else this.pinned.delete(id);
    }
    this.nodes.update(ids.map((id) => ({ id, fixed: on, shapeProperties: { borderDashes: on ? [5, 3] : false } })));
    this._emit('changed');
  }

  clear() {
    this.nodes.clear();
    this.edges.clear();
    for (const set of [this.pinned, this.userHidden, this.pathNodes, this.pathEdges]) set.clear();
    this.identities = [];
    this.federated.clear();
    this.degree.clear();
    this.communityOf.clear();
    this._emit('changed');
  }

  // ---- layout --------------------------------------------------------------------------------

  /** Run a bounded stabilisation, then switch physics off so 2,000 nodes cost nothing at rest.
   * With `only`, the nodes already on the chart are frozen and only those given move. */
  layout(only = null) {
    const total = this.nodes.length;
    if (!total) return false;
    if (this.laying) this._layoutDone();
    this.frozen = [];
    this.fitAfter = !only;
    if (only) {
      const free = new Set(only);
      this.nodes.forEach((n) => {
        if (!free.has(n.id) && !this.pinned.has(n.id)) this.frozen.push(n.id);
      });
      this.nodes.update(this.frozen.map((id) => ({ id, fixed: true })));
    }
    const large = total > LARGE;
    const iterations = large ? 150 : total > 300 ? 250 : 400;
    this.laying = true;
    this._emit('busy', true);
    this.network.setOptions({
      physics: { enabled: true, stabilization: { enabled: true, iterations, updateInterval: 25, fit: false } },
      interaction: { hideEdgesOnDrag: large, hideEdgesOnZoom: large },
    });
    this.network.stabilize(iterations);
    return true;
  }

  _layoutDone() {
    if (!this.laying) return;
    this.laying = false;
    this.network.setOptions({ physics: { enabled: false } });
    if (this.frozen.length) {
      this.nodes.update(this.frozen.map((id) => ({ id, fixed: false })));
      this.frozen = [];
    }
    // vis-network's own fit stops at 100 % zoom; a small chart may come closer to be read.
    if (this.fitAfter) this.network.fit({ maxZoomLevel: 1.4 });
    this._emit('busy', false);
    this._emit('layoutdone');
  }

  // ---- paths ---------------------------------------------------------------------------------

  highlightPaths(pathSet) {
    this.clearHighlight(false);
    for (const path of pathSet.paths) {
      for (const n of path.nodes) this.pathNodes.add(n.id);
      for (const e of path.edges) this.pathEdges.add(e.id);
    }
    this.nodes.update([...this.pathNodes].map((id) => {
      const item = this.nodes.get(id);
      const colour = item.supernode ? this._supernodeColour(true) : this._nodeColour(kindStyle(item.kind), true, id);
      return { id, path: true, borderWidth: 5, color: colour };
    }));
    this.edges.update([...this.pathEdges].map((id) => {
      const item = this.edges.get(id);
      return {
        id, path: true, width: Math.max(item.baseWidth + 2, 4),
        color: { color: PATH_COLOUR, highlight: PATH_COLOUR, hover: PATH_COLOUR },
      };
    }));
    this.applyFilters();
  }

  clearHighlight(refilter = true) {
    this.nodes.update([...this.pathNodes].filter((id) => this.nodes.get(id)).map((id) => {
      const item = this.nodes.get(id);
      if (item.supernode) return { id, path: false, borderWidth: 3, color: this._supernodeColour(false) };
      return { id, path: false, borderWidth: this.communityOf.has(id) ? 5 : 2, color: this._nodeColour(kindStyle(item.kind), false, id) };
    }));
    this.edges.update([...this.pathEdges].filter((id) => this.edges.get(id)).map((id) => ({
      id, path: false, width: this.edges.get(id).baseWidth,
      color: { color: EDGE_COLOUR, highlight: EDGE_SELECTED, hover: '#64748b' },
    })));
    this.pathNodes.clear();
    this.pathEdges.clear();
    if (refilter) this.applyFilters();
  }

  // ---- communities ---------------------------------------------------------------------------

  /** Ring each node of `numbers` (id -> community number) in its community's colour; an empty map
   * takes the rings off. Nodes on a highlighted path keep the path's colour. */
  setCommunities(numbers) {
    this.communityOf = new Map(numbers);
    const changes = [];
    this.nodes.forEach((n) => {
      if (this.pathNodes.has(n.id) || n.supernode) return; // supernodes keep their own look
      changes.push({ id: n.id, borderWidth: this.communityOf.has(n.id) ? 5 : 2, color: this._nodeColour(kindStyle(n.kind), false, n.id) });
    });
    this.nodes.update(changes);
  }

  // ---- view ----------------------------------------------------------------------------------

  select(ids) {
    const shown = ids.filter((id) => this.has(id));
    this.network.selectNodes(shown);
    return shown;
  }

  focus(id) {
    if (this.has(id)) this.network.focus(id, { scale: Math.max(this.network.getScale(), 0.9), animation: { duration: 350 } });
  }

  fit() {
    this.network.fit({ animation: { duration: 300 } });
  }

  // ---- saved charts ----------------------------------------------------------------------------

  /** The chart as it saves (queries/charts.py ChartState): every node kept with its position, pin
   * and hidden flag, the kinds hidden by the legend, the time range as ISO text. */
  chartState() {
    const positions = this.network.getPositions();
    const nodes = this.nodes.getIds().map((id) => {
      // getPositions() leaves hidden nodes out; vis keeps their place in its body all the same.
      const at = positions[id] || this.network.body.nodes[id] || this.nodes.get(id);
      return { id, x: at.x, y: at.y, pinned: this.pinned.has(id), hidden: this.userHidden.has(id) };
    });
    const iso = (ms) => (ms === null ? null : new Date(ms).toISOString());
    return { nodes, hiddenKinds: [...this.hiddenKinds], since: iso(this.since), until: iso(this.until) };
  }

  /** Replace the chart with a saved one: its entities at their saved places, pins, hidden nodes,
   * hidden kinds and time range as they were. `graph` holds the entities and links, fresh. */
  restore(state, graph) {
    if (this.laying) this._layoutDone();
    this.clear();
    const placed = new Map(state.nodes.map((n) => [n.id, n]));
    for (const n of state.nodes) if (n.hidden) this.userHidden.add(n.id);
    this.hiddenKinds = new Set(state.hiddenKinds || []);
    this.since = state.since ? Date.parse(state.since) : null;
    this.until = state.until ? Date.parse(state.until) : null;
    this.nodes.add(graph.nodes.filter((e) => placed.has(e.id)).map((e) => {
      const n = placed.get(e.id);
      return this._nodeItem(e, { x: n.x, y: n.y });
    }));
    this.edges.add(graph.edges.map((e) => this._edgeItem(e)));
    this._updateDegrees(graph.edges);
    this.pin(state.nodes.filter((n) => n.pinned && this.has(n.id)).map((n) => n.id), true);
    this.applyFilters();
    this.network.fit({ maxZoomLevel: 1.4 });
  }

  /** The chart as a PNG on white, for a case file. */
  toPng() {
    const source = this.network.canvas.frame.canvas;
    const out = document.createElement('canvas');
    out.width = source.width;
    out.height = source.height;
    const ctx = out.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(source, 0, 0);
    return out.toDataURL('image/png');
  }
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

/** True for an entity marked as a supernode (queries/supernodes.py) or a skipped hub drawn collapsed. */
export function isSupernode(entity) {
  return Boolean(entity && entity.properties && entity.properties.supernode === true);
}
