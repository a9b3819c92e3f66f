// The search box: suggestions while typing (debounced, stale answers dropped), keyboard and mouse
// selection. Hands the chosen entity to `onPick`; reports failures through `onError`.

import * as api from './api.js';
import { debounce, el } from './format.js';
import { kindBadge } from './kinds.js';

const MIN_CHARS = 2;
const DELAY_MS = 220;

export class SearchBox {
  constructor(input, list, { onPick, onError }) {
    this.input = input;
    this.list = list;
    this.onPick = onPick;
    this.onError = onError;
    this.hits = [];
    this.active = -1;
    this.asked = 0; // sequence number of the latest question: older answers are ignored
    this.pending = false;
    const ask = debounce(() => this._ask(), DELAY_MS);
    input.addEventListener('input', () => {
      this.pending = this.input.value.trim().length >= MIN_CHARS;
      ask();
    });
    input.addEventListener('keydown', (e) => this._key(e));
    input.addEventListener('focus', () => {
      if (this.hits.length) this._open();
    });
    input.addEventListener('blur', () => setTimeout(() => this._close(), 150));
  }

  async _ask() {
    const text = this.input.value.trim();
    const ticket = ++this.asked;
    if (text.length < MIN_CHARS) {
      this.pending = false;
      this.hits = [];
      this._close();
      return;
    }
    try {
      const hits = await api.search(text);
      if (ticket !== this.asked) return;
      this.hits = hits;
      this.active = hits.length ? 0 : -1;
      this._draw(text);
    } catch (err) {
      if (ticket === this.asked) {
        this.hits = [];
        this._close();
        this.onError(err);
      }
    } finally {
      if (ticket === this.asked) this.pending = false;
    }
  }

  _draw(text) {
    const rows = this.hits.map((hit, i) => {
      const e = hit.entity;
      const matchedElsewhere = hit.matched && hit.matched !== e.label && hit.matched !== e.key;
      return el('li', {
        role: 'option', id: `hit-${i}`, class: i === this.active ? 'active' : null,
        'aria-selected': i === this.active ? 'true' : 'false', dataset: { id: e.id },
        onmousedown: (ev) => {
          ev.preventDefault(); // keep focus in the box until the pick is handled
          this._pick(i);
        },
        onmousemove: () => this._activate(i),
      },
      kindBadge(e.kind),
      el('span', { class: 'row-text' },
        el('span', { class: 'row-label' }, e.label),
        el('span', { class: 'row-key mono' }, `${e.kind} · ${e.key}`),
        matchedElsewhere ? el('span', { class: 'row-match' }, `matched “${hit.matched}”`) : null));
    });
    if (!rows.length) rows.push(el('li', { class: 'empty' }, `No entity matches “${text}”`));
    this.list.replaceChildren(...rows);
    this._open();
  }

  _activate(i) {
    this.active = i;
    [...this.list.children].forEach((li, j) => {
      li.classList.toggle('active', j === i);
      li.setAttribute('aria-selected', j === i ? 'true' : 'false');
    });
    const row = this.list.children[i];
    if (row) {
      row.scrollIntoView({ block: 'nearest' });
      this.input.setAttribute('aria-activedescendant', row.id);
    }
  }

  _key(e) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!this.hits.length) return;
      e.preventDefault();
      this._open();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      this._activate((this.active + step + this.hits.length) % this.hits.length);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (this.active >= 0) this._pick(this.active);
    } else if (e.key === 'Escape') {
      this._close();
    }
  }

  _pick(i) {
    const hit = this.hits[i];
    if (!hit) return;
    this._close();
    this.input.value = hit.entity.label;
    this.input.blur();
    this.onPick(hit.entity);
  }

  _open() {
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
  }

  _close() {
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  get busy() {
    return this.pending;
  }
}
