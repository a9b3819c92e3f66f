// Where new nodes first appear. A chart an investigator has arranged must not jump when it grows,
// so new nodes start next to what they hang from and only they are laid out (graph.js).

/** Starting positions (id -> {x, y}) for the `fresh` entities: each on a fan around the drawn node
 * it is tied to by `edges`, opening away from the middle of the chart. Nodes tied only to other
 * new nodes (the middle of a path) are placed in later rounds; untied ones around `anchor` or the
 * view's centre. `positions` are those of the nodes already drawn. */
export function placeNew(fresh, edges, positions, anchor, viewCentre) {
  const known = { ...positions };
  const drawn = Object.values(positions);
  const centre = {
    x: drawn.reduce((sum, p) => sum + p.x, 0) / drawn.length,
    y: drawn.reduce((sum, p) => sum + p.y, 0) / drawn.length,
  };
  const links = new Map();
  const link = (a, b) => {
    if (!links.has(a)) links.set(a, []);
    links.get(a).push(b);
  };
  for (const e of edges) {
    link(e.source, e.target);
    link(e.target, e.source);
  }
  const placed = new Map();
  let waiting = fresh.map((n) => n.id);
  while (waiting.length) {
    const byHub = new Map();
    const still = [];
    for (const id of waiting) {
      const near = links.get(id) || [];
      const hub = anchor && known[anchor] && near.includes(anchor) ? anchor : near.find((other) => known[other]) || null;
      if (!hub) {
        still.push(id);
        continue;
      }
      if (!byHub.has(hub)) byHub.set(hub, []);
      byHub.get(hub).push(id);
    }
    if (!byHub.size) byHub.set(null, still.splice(0)); // nothing ties them to the chart
    const loose = (anchor && known[anchor]) || viewCentre;
    for (const [hub, ids] of byHub) {
      if (hub) fan(known[hub], centre, ids, known, placed);
      else fan(loose, loose, ids, known, placed);
    }
    waiting = still;
  }
  return placed;
}

/** Place `ids` around `origin`: on a fan that opens away from `centre` (the rest of the chart),
 * in as many rows as they need, or on full circles when there is no "away". */
function fan(origin, centre, ids, known, placed) {
  const dx = origin.x - centre.x;
  const dy = origin.y - centre.y;
  const full = Math.hypot(dx, dy) < 1;
  const spread = full ? 2 * Math.PI : Math.min(2 * Math.PI, Math.max(Math.PI / 2, ids.length * 0.35));
  const start = full ? 0 : Math.atan2(dy, dx) - spread / 2;
  let i = 0;
  for (let row = 0; i < ids.length; row += 1) {
    const radius = 140 + 70 * row;
    const take = Math.min(Math.max(1, Math.floor((spread * radius) / 60)), ids.length - i);
    for (let j = 0; j < take; j += 1, i += 1) {
      const angle = full
        ? start + (2 * Math.PI * j) / take + row * 0.5
        : start + spread * (take === 1 ? 0.5 : j / (take - 1));
      const at = { x: origin.x + radius * Math.cos(angle), y: origin.y + radius * Math.sin(angle) };
      known[ids[i]] = at;
      placed.set(ids[i], at);
    }
  }
}
