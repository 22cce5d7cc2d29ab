// The board: environments as tabs, stages as columns, services as cards. Every change is
// one POST /api/action, the same core call as `depctl environment stage ...`.
'use strict';

const ui = { board: null, envId: null, etag: null, picked: null, refusals: {}, dragged: null };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function announce(text) { document.getElementById('announce').textContent = text; }

// The CLI's wording and its exit-code class, e.g. "error: ...\nhint: ...\n(exit code 3: refused)".
function refusalText(err) {
  return 'error: ' + err.error + (err.hint ? '\nhint: ' + err.hint : '') +
    '\n(exit code ' + err.exit_code + ': ' + err.kind + ')';
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method, cache: 'no-store', credentials: 'same-origin',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text, exit_code: 6, kind: 'store' }; }
  if (!res.ok) throw data;
  return data;
}

function currentEnv() {
  return ui.board && ui.board.environments.find(e => e.id === ui.envId);
}

// One action, one transaction; a refusal is kept under `key` and shown beside its element.
async function act(key, request) {
  request.environment = ui.envId;
  try {
    const out = await api('POST', '/api/action', request);
    delete ui.refusals[key];
    announce(out.message);
    await refresh(true);
    return true;
  } catch (err) {
    ui.refusals[key] = refusalText(err);
    announce(ui.refusals[key]);
    render();
    return false;
  }
}

async function refresh(force) {
  const headers = {};
  if (ui.etag && !force) headers['If-None-Match'] = ui.etag;
  const res = await fetch('/api/board', { cache: 'no-store', headers });
  if (res.status === 304) return;
  if (!res.ok) return;
  ui.etag = res.headers.get('ETag');
  ui.board = await res.json();
  if (!currentEnv() && ui.board.environments.length) ui.envId = ui.board.environments[0].id;
  render();
}

function refusalBox(key) {
  return el('div', { class: 'refusal', role: 'alert', 'data-refusal': key }, ui.refusals[key] || '');
}

function renderTabs() {
  const tabs = document.getElementById('tabs');
  tabs.replaceChildren(...ui.board.environments.map(env => el('button', {
    role: 'tab', type: 'button', 'aria-selected': env.id === ui.envId ? 'true' : 'false',
    tabindex: env.id === ui.envId ? '0' : '-1', 'data-env': env.name,
    onclick: () => { ui.envId = env.id; ui.picked = null; render(); document.dispatchEvent(new Event('envchange')); },
    onkeydown: ev => {
      const list = ui.board.environments, i = list.findIndex(e => e.id === env.id);
      const d = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
      if (!d) return;
      ui.envId = list[(i + d + list.length) % list.length].id; render();
      document.querySelector('[role=tab][aria-selected=true]').focus();
      document.dispatchEvent(new Event('envchange'));
    },
  }, env.name + (env.require_approval ? ' (approval)' : ''))));
}

function card(service, stage) {
  const key = 'service:' + service.name;
  const deps = service.depends_on.length ? 'Depends on: ' + service.depends_on.join(', ') : 'No dependencies';
  const label = `${service.name}, ${service.type}, version ${service.version || 'none'}, ` +
    `${service.status}${service.skipped ? ', skipped' : ''}, in stage ${stage.name}. ${deps}`;
  const picked = ui.picked && ui.picked.kind === 'service' && ui.picked.name === service.name;
  return el('div', {
    class: 'card' + (service.skipped ? ' skipped' : '') + (picked ? ' picked' : ''),
    role: 'listitem', tabindex: '0', draggable: 'true', title: deps, 'aria-label': label,
    'aria-grabbed': picked ? 'true' : 'false', 'data-service': service.name, 'data-key': key,
    ondragstart: ev => { ui.dragged = { kind: 'service', name: service.name }; ev.dataTransfer.setData('text/plain', service.name); ev.stopPropagation(); },
    onkeydown: ev => onPickKey(ev, 'service', service.name, stage),
  },
  el('div', { class: 'name' }, service.name),
  el('div', { class: 'meta' }, service.type + ' · ' + (service.version || '—') + ' · ',
    el('span', { class: 'status-' + service.status }, service.status),
    service.skipped ? ' · skipped' : ''),
  el('div', { class: 'deps' }, deps),
  el('button', {
    type: 'button', class: 'small', 'aria-label': (service.skipped ? 'Unskip ' : 'Skip ') + service.name,
    onclick: () => act(key, { action: service.skipped ? 'unskip' : 'skip', service: service.name }),
  }, service.skipped ? 'Unskip' : 'Skip'),
  refusalBox(key));
}

function stageHeader(stage, env) {
  const key = 'stage:' + stage.name;
  const picked = ui.picked && ui.picked.kind === 'stage' && ui.picked.name === stage.name;
  if (ui.renaming === stage.name) return renameForm(stage, key);
  return el('div', {
    class: 'column-head' + (picked ? ' picked' : ''), tabindex: '0', draggable: 'true',
    'aria-label': `Stage ${stage.position}: ${stage.name}. ${stage.description}. ${stage.services.length} services`,
    'aria-grabbed': picked ? 'true' : 'false', 'data-stage-head': stage.name,
    ondragstart: ev => { ui.dragged = { kind: 'stage', name: stage.name }; ev.dataTransfer.setData('text/plain', stage.name); },
    onkeydown: ev => onPickKey(ev, 'stage', stage.name, stage),
  },
  el('h3', {}, `${stage.position}. ${stage.name}`),
  el('div', { class: 'desc' }, stage.description),
  stage.default_for.length ? el('div', { class: 'defaults' }, 'default for ' + stage.default_for.join(', ')) : null,
  el('button', { type: 'button', class: 'small', 'aria-label': 'Rename stage ' + stage.name,
    onclick: () => { ui.renaming = stage.name; render(); document.querySelector('[data-rename] input').focus(); } }, 'Rename'),
  ' ',
  el('button', { type: 'button', class: 'small', 'aria-label': 'Delete stage ' + stage.name,
    onclick: () => act(key, { action: 'delete_stage', stage: stage.name }) }, 'Delete'),
  refusalBox(key));
}

function renameForm(stage, key) {
  const name = el('input', { name: 'name', value: stage.name, 'aria-label': 'New name of stage ' + stage.name, required: true });
  const desc = el('input', { name: 'description', value: stage.description, 'aria-label': 'New description of stage ' + stage.name });
  return el('form', {
    class: 'column-head inline-form', 'data-rename': stage.name,
    onsubmit: async ev => {
      ev.preventDefault();
      const request = { action: 'edit_stage', stage: stage.name };
      if (name.value !== stage.name) request.new_name = name.value;
      if (desc.value !== stage.description) request.new_description = desc.value;
      ui.renaming = null;
      if (!(await act(key, request))) { ui.renaming = stage.name; render(); }
    },
  }, name, desc, el('button', { type: 'submit' }, 'Save'),
  el('button', { type: 'button', onclick: () => { ui.renaming = null; render(); } }, 'Cancel'),
  refusalBox(key));
}

// Drag and drop: a card onto a column moves it; a header onto a column reorders.
function dropOn(stage, env) {
  const d = ui.dragged; ui.dragged = null;
  if (!d) return;
  if (d.kind === 'service') act('service:' + d.name, { action: 'move', service: d.name, stage: stage.name });
  else if (d.name !== stage.name) reorder(d.name, stage, env);
}

function reorder(name, target, env) {
  const from = env.stages.findIndex(s => s.name === name), to = env.stages.findIndex(s => s.name === target.name);
  const request = { action: 'reorder', stage: name };
  if (from < to) request.after = target.name; else request.before = target.name;
  return act('stage:' + name, request);
}

// Keyboard: Enter picks up, arrows choose a column, Enter drops, Escape puts back.
function onPickKey(ev, kind, name, stage) {
  const env = currentEnv();
  if (ev.target !== ev.currentTarget) return;
  const p = ui.picked;
  if (ev.key === 'Enter' || ev.key === ' ') {
    ev.preventDefault();
    if (!p || p.name !== name || p.kind !== kind) {
      ui.picked = { kind, name, target: env.stages.findIndex(s => s.name === stage.name) };
      announce(`Picked up ${kind} ${name}. Choose a stage with the arrow keys, Enter to drop, Escape to cancel.`);
      render(); focusPicked(); return;
    }
    const target = env.stages[p.target];
    ui.picked = null;
    if (kind === 'service') act('service:' + name, { action: 'move', service: name, stage: target.name }).then(() => focusKey('service', name));
    else if (target.name !== name) reorder(name, target, env).then(() => focusKey('stage', name));
    else render();
    return;
  }
  if (ev.key === 'Escape' && p) { ui.picked = null; announce('Put back.'); render(); focusKey(kind, name); return; }
  const d = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
  if (p && d) {
    ev.preventDefault();
    p.target = Math.max(0, Math.min(env.stages.length - 1, p.target + d));
    announce(`Drop into stage ${env.stages[p.target].name}?`);
    render(); focusPicked(); return;
  }
  if (!p && (ev.key === 'ArrowDown' || ev.key === 'ArrowUp' || d)) {
    ev.preventDefault();
    const all = [...document.querySelectorAll('.column-head, .card')];
    const cols = [...document.querySelectorAll('.column')];
    if (d) {
      const ci = cols.indexOf(ev.currentTarget.closest('.column')) + d;
      if (cols[ci]) cols[ci].querySelector('.column-head').focus();
    } else {
      const next = all[all.indexOf(ev.currentTarget) + (ev.key === 'ArrowDown' ? 1 : -1)];
      if (next) next.focus();
    }
  }
}

function focusKey(kind, name) {
  const sel = kind === 'service' ? `[data-service="${CSS.escape(name)}"]` : `[data-stage-head="${CSS.escape(name)}"]`;
  const node = document.querySelector(sel);
  if (node) node.focus();
}
function focusPicked() { if (ui.picked) focusKey(ui.picked.kind, ui.picked.name); }

function render() {
  if (!ui.board) return;
  document.getElementById('project').textContent = ui.board.project;
  renderTabs();
  const env = currentEnv();
  const board = document.getElementById('board');
  const active = document.activeElement;
  const focus = active && (active.dataset.service ? ['service', active.dataset.service]
    : active.dataset.stageHead ? ['stage', active.dataset.stageHead] : null);
  if (!env) { board.replaceChildren(el('p', {}, 'No environment yet: depctl environment create NAME')); return; }
  document.getElementById('board-title').textContent = 'Pipeline of ' + env.name;
  board.replaceChildren(...env.stages.map((stage, i) => {
    const target = ui.picked && ui.picked.target === i;
    return el('section', {
      class: 'column' + (target ? ' drop-target' : ''), role: 'listitem', 'data-stage': stage.name,
      'aria-label': 'Stage ' + stage.name,
      ondragover: ev => { if (ui.dragged) { ev.preventDefault(); ev.currentTarget.classList.add('drop-target'); } },
      ondragleave: ev => ev.currentTarget.classList.remove('drop-target'),
      ondrop: ev => { ev.preventDefault(); dropOn(stage, env); },
    }, stageHeader(stage, env),
    el('div', { class: 'column-body', role: 'list', 'aria-label': 'Services of stage ' + stage.name },
      ...stage.services.map(s => card(s, stage))));
  }));
  document.querySelector('[data-refusal="new-stage"]').textContent = ui.refusals['new-stage'] || '';
  if (focus && !ui.renaming) focusKey(focus[0], focus[1]);
  // When the first board is painted (bench/bench_ui.py reads it).
  if (!ui.marked) { ui.marked = true; requestAnimationFrame(() => performance.mark('board-rendered')); }
}

function setupNewStage() {
  const form = document.getElementById('new-stage-form');
  document.getElementById('new-stage').addEventListener('click', () => { form.hidden = false; form.elements.name.focus(); });
  form.querySelector('[data-cancel]').addEventListener('click', () => { form.hidden = true; });
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const ok = await act('new-stage', { action: 'create_stage', name: form.elements.name.value, description: form.elements.description.value });
    if (ok) { form.reset(); form.hidden = true; }
  });
}

// Freshness: a change made elsewhere (the CLI in another shell) shows within a second; the
// poll costs a 304 when nothing changed.
function poll() {
  refresh(false).catch(() => {}).finally(() => setTimeout(poll, 400));
}

document.addEventListener('DOMContentLoaded', () => { setupNewStage(); poll(); });
