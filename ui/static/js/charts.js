// Saved charts: save the chart as it is (a new version each time), reopen one exactly, and export
// the saved version for a case file (html, png, svg, graphml, gexf, anx, ftm, pdf). One dialog,
// three modes; the app's `run` keeps the status line and the busy flag honest.

import * as api from './api.js';
import { el, formatTime, plural } from './format.js';

export const FORMATS = ['pdf', 'html', 'png', 'svg', 'graphml', 'gexf', 'anx', 'ftm'];

export class ChartDialog {
  /** `actions`: run(doing, work), status(text, level), restore(chart), state() -> ChartState. */
  constructor(dialog, actions) {
    this.dialog = dialog;
    this.actions = actions;
    this.current = null; // the chart last saved or opened: {id, series, name, case, version}
    this.lastCase = '';
    dialog.addEventListener('close', () => dialog.replaceChildren());
  }

  _show(title, ...body) {
    const close = el('button', { type: 'button', class: 'link dialog-close', onclick: () => this.dialog.close() }, 'Close');
    this.dialog.replaceChildren(el('div', { class: 'dialog-head' }, el('h2', {}, title), close), ...body);
    if (!this.dialog.open) this.dialog.showModal();
  }

  _field(label, name, value, placeholder) {
    const input = el('input', { type: 'text', name, value: value || '', placeholder, autocomplete: 'off', spellcheck: 'false' });
    return [el('label', { class: 'field wide' }, label, input), input];
  }

  openSave() {
    const [caseRow, caseInput] = this._field('Case', 'case', this.current ? this.current.case : this.lastCase, 'e.g. ICAC-2024-0042');
    const [nameRow, nameInput] = this._field('Chart name', 'name', this.current ? this.current.name : '', 'e.g. Network around @handle');
    const note = el('p', { class: 'hint' }, 'Saving under a name already used in the case adds a new version; earlier versions are kept as they were.');
    const form = el('form', { method: 'dialog' }, caseRow, nameRow, note,
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'primary', id: 'chart-save-submit' }, 'Save')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const caseKey = caseInput.value.trim();
      const name = nameInput.value.trim();
      if (!caseKey || !name) {
        this.actions.status('A chart needs a case and a name.', 'warn');
        return;
      }
      this.dialog.close();
      this.save(caseKey, name);
    });
    this._show('Save chart', form);
    (this.current ? nameInput : caseInput).focus();
  }

  save(caseKey, name) {
    const state = this.actions.state();
    if (!state.nodes.length) {
      this.actions.status('Nothing to save: the chart is empty.', 'warn');
      return Promise.resolve();
    }
    return this.actions.run(`Saving chart “${name}”`, async () => {
      const saved = await api.saveChart(caseKey, name, state);
      this._remember(saved);
      this.actions.status(`Saved chart ${saved.id} (version ${saved.version}, ${plural(state.nodes.length, 'entity', 'entities')}).`);
    });
  }

  openOpen() {
    const [caseRow, caseInput] = this._field('Case', 'case', this.lastCase, 'case key');
    const list = el('ul', { class: 'chart-list', id: 'chart-list' });
    const form = el('form', { method: 'dialog' }, caseRow,
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'primary', id: 'chart-list-submit' }, 'List charts')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const caseKey = caseInput.value.trim();
      if (caseKey) this.list(caseKey, list);
    });
    this._show('Open chart', form, list);
    caseInput.focus();
    if (caseInput.value) this.list(caseInput.value, list);
  }

  list(caseKey, list) {
    this.lastCase = caseKey;
    return this.actions.run(`Listing the charts of case ${caseKey}`, async () => {
      const found = await api.charts(caseKey);
      list.replaceChildren(...(found.length ? found.map((c) => el('li', {},
        el('div', { class: 'row-text' }, el('span', { class: 'row-label' }, c.name),
          el('span', { class: 'row-key mono' }, `${c.id} · saved ${formatTime(c.savedAt)}${c.author ? ` by ${c.author}` : ''}`)),
        el('button', { type: 'button', class: 'primary', 'data-id': c.id, onclick: () => { this.dialog.close(); this.open(c.id); } }, 'Open')))
        : [el('li', { class: 'muted' }, `No chart saved in case ${caseKey}.`)]));
      this.actions.status(`Case ${caseKey}: ${plural(found.length, 'saved chart')}.`);
    });
  }

  open(id) {
    return this.actions.run(`Opening chart ${id}`, async () => {
      const chart = await api.openChart(id);
      this._remember(chart);
      this.actions.restore(chart);
      const missing = chart.graph.missing.length;
      this.actions.status(`Opened chart ${chart.id}: ${plural(chart.graph.nodes.length, 'entity', 'entities')}, `
        + `${plural(chart.graph.edges.length, 'link')}${missing ? `; ${missing} no longer in the graph` : ''}.`, missing ? 'warn' : 'info');
    });
  }

  openExport() {
    if (!this.current) {
      this.actions.status('Save the chart (or open a saved one) first: exports are made from a saved version.', 'warn');
      return;
    }
    const select = el('select', { name: 'format', id: 'chart-export-format' }, FORMATS.map((f) => el('option', { value: f }, f)));
    const form = el('form', { method: 'dialog' },
      el('p', {}, `Exports the saved version ${this.current.id}; save first to include later changes. Every export is recorded in the audit log.`),
      el('label', { class: 'field wide' }, 'Format', select),
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'primary', id: 'chart-export-submit' }, 'Export')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.dialog.close();
      this.export(select.value);
    });
    this._show('Export chart', form);
  }

  export(format) {
    const id = this.current.id;
    return this.actions.run(`Exporting ${id} as ${format}`, async () => {
      const file = await api.exportChart(id, format);
      const bytes = file.encoding === 'base64'
        ? Uint8Array.from(atob(file.content), (c) => c.charCodeAt(0))
        : new TextEncoder().encode(file.content);
      const url = URL.createObjectURL(new Blob([bytes], { type: file.mediaType }));
      el('a', { href: url, download: file.filename }).click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      this.actions.status(`Exported ${id} as ${file.filename} (${file.size.toLocaleString('en')} bytes).`);
    });
  }

  _remember(chart) {
    this.current = { id: chart.id, series: chart.series, name: chart.name, case: chart.case, version: chart.version };
    this.lastCase = chart.case;
    const label = document.querySelector('#chart-name');
    if (label) {
      label.hidden = false;
      label.textContent = `${chart.name} · v${chart.version}`;
      label.title = chart.id;
    }
  }
}
