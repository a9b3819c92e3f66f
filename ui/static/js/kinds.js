// How each kind of entity looks: one colour and one icon per label of the graph model
// (loaders/model.py). Colours are chosen to stay distinguishable for the common colour-vision
// deficiencies when paired with their icons; the icon carries the meaning, the colour helps.

const ICONS = new URL('../icons/', import.meta.url);

export const KINDS = {
  Account: { colour: '#2563eb', icon: 'account', plural: 'Accounts' },
  Person: { colour: '#7c3aed', icon: 'person', plural: 'Persons' },
  Email: { colour: '#0891b2', icon: 'email', plural: 'Emails' },
  Phone: { colour: '#16a34a', icon: 'phone', plural: 'Phones' },
  IP: { colour: '#ea580c', icon: 'ip', plural: 'IP addresses' },
  Device: { colour: '#a16207', icon: 'device', plural: 'Devices' },
  File: { colour: '#dc2626', icon: 'file', plural: 'Files' },
  Report: { colour: '#475569', icon: 'report', plural: 'Reports' },
  Provider: { colour: '#0f766e', icon: 'provider', plural: 'Providers' },
  Location: { colour: '#65a30d', icon: 'location', plural: 'Locations' },
  Case: { colour: '#be185d', icon: 'case', plural: 'Cases' },
  Agency: { colour: '#1e3a8a', icon: 'agency', plural: 'Agencies' },
  Identity: { colour: '#9333ea', icon: 'identity', plural: 'Identities' },
  HashSet: { colour: '#78716c', icon: 'hashset', plural: 'Hash sets' },
  Community: { colour: '#0d9488', icon: 'community', plural: 'Communities' },
};

const UNKNOWN = { colour: '#6b7280', icon: 'unknown' };

export function kindStyle(kind) {
  const style = KINDS[kind] || UNKNOWN;
  return { ...style, border: shade(style.colour, -0.28), image: iconUrl(kind), plural: style.plural || kind };
}

export function iconUrl(kind) {
  return new URL(`${(KINDS[kind] || UNKNOWN).icon}.svg`, ICONS).href;
}

/** A round badge (kind colour, white glyph) for lists: the same mark as the node on the chart. */
export function kindBadge(kind, className = 'badge') {
  const span = document.createElement('span');
  span.className = className;
  span.style.setProperty('--kind', kindStyle(kind).colour);
  span.title = kind;
  const img = document.createElement('img');
  img.src = iconUrl(kind);
  img.alt = kind;
  span.append(img);
  return span;
}

/** Darken (negative) or lighten (positive) a #rrggbb colour by a fraction. */
function shade(hex, amount) {
  const n = parseInt(hex.slice(1), 16);
  const channel = (shift) => {
    const c = (n >> shift) & 255;
    const v = amount < 0 ? c * (1 + amount) : c + (255 - c) * amount;
    return Math.round(v).toString(16).padStart(2, '0');
  };
  return `#${channel(16)}${channel(8)}${channel(0)}`;
}
