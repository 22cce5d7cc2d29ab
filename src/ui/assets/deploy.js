// Deploy from the page: the plan (dry run) first, the approval prompt where the environment
// requires it, then live progress by server-sent events (the `-o json` events), cancel,
// the history and each step's log.
'use strict';

const live = { run: null, source: null, deploymentId: null, logs: {}, shown: null };

function fmtMs(ms) { return ms >= 1000 ? (ms / 1000).toFixed(1) + ' s' : ms + ' ms'; }

function showRefusal(key, err) {
  document.querySelector(`[data-refusal="${key}"]`).textContent = err ? refusalText(err) : '';
}

function versionValue() { return document.getElementById('version').value.trim(); }

async function showPlan(ev) {
  ev.preventDefault();
  showRefusal('deploy', null);
  document.getElementById('approval').hidden = true;
  try {
    const plan = await api('POST', '/api/plan', { environment: ui.envId, version: versionValue() });
    const pre = document.getElementById('plan');
    pre.textContent = plan.text; pre.hidden = false;
    live.plan = plan;
    const button = document.getElementById('deploy-button');
    button.textContent = plan.require_approval ? 'Deploy (needs approval)…' : 'Deploy';
    document.getElementById('deploy-actions').hidden = false;
    button.focus();
  } catch (err) { showRefusal('deploy', err); }
}

function askOrDeploy() {
  const env = currentEnv();
  if (!live.plan || !live.plan.require_approval) return startDeploy(false);
  const box = document.getElementById('approval');
  document.getElementById('approval-text').textContent =
    `Environment "${env.name}" requires approval. Deploy version ${live.plan.version || versionValue()}?`;
  box.hidden = false;
  document.getElementById('approve-button').focus();
}

async function startDeploy(approved) {
  document.getElementById('approval').hidden = true;
  document.getElementById('deploy-actions').hidden = true;
  showRefusal('deploy', null);
  try {
    const out = await api('POST', '/api/deploy', { environment: ui.envId, version: versionValue(), approved });
    showTimeline(null);
    follow(out.run);
  } catch (err) { showRefusal('deploy', err); document.getElementById('deploy-actions').hidden = false; }
}

function stepRow(service, step) {
  const body = document.querySelector('#steps tbody');
  const id = service + ' ' + step;
  let row = body.querySelector(`tr[data-step="${CSS.escape(id)}"]`);
  if (!row) {
    row = el('tr', { 'data-step': id }, el('td', {}, service), el('td', {}, step),
      el('td', { class: 'st' }, 'RUNNING'), el('td', { class: 'ms' }, ''),
      el('td', {}, el('button', { type: 'button', class: 'small', 'aria-label': `Log of ${service} ${step}`,
        onclick: () => showLog(service, step) }, 'Log')));
    body.append(row);
  }
  return row;
}

function setStatus(node, status) { node.textContent = status; node.className = node.className.replace(/ ?status-\S+/g, '') + ' status-' + status; }

// Server-sent events; EventSource reconnects with Last-Event-ID, so nothing is lost.
function follow(runId) {
  live.run = runId; live.logs = {}; live.shown = null;
  document.querySelector('#steps tbody').replaceChildren();
  document.getElementById('live').hidden = false;
  document.getElementById('log-box').hidden = true;
  setStatus(document.getElementById('live-status'), 'RUNNING');
  document.getElementById('cancel-button').hidden = false;
  if (live.source) live.source.close();
  live.source = new EventSource(`/api/runs/${runId}/events`);
  live.source.onmessage = msg => onEvent(JSON.parse(msg.data));
}

function onEvent(e) {
  if (e.event === 'deployment_started') {
    live.deploymentId = e.deployment_id;
    document.getElementById('live-title').textContent = `Deployment ${e.deployment_id} of ${e.environment} at ${e.version}:`;
  } else if (e.event === 'step_started') {
    setStatus(stepRow(e.service, e.step).querySelector('.st'), 'RUNNING');
  } else if (e.event === 'step_finished') {
    const row = stepRow(e.service, e.step);
    setStatus(row.querySelector('.st'), e.status);
    row.querySelector('.ms').textContent = fmtMs(e.duration_ms);
  } else if (e.event === 'output') {
    (live.logs[e.step] = live.logs[e.step] || []).push(e.line);
    if (live.shown === e.step) document.getElementById('log').textContent += e.line + '\n';
  } else if (e.event === 'cancel_requested') {
    setStatus(document.getElementById('live-status'), 'CANCELLING');
  } else if (e.event === 'deployment_finished' || e.event === 'error') {
    live.source.close(); live.source = null;
    document.getElementById('cancel-button').hidden = true;
    if (e.event === 'error') { setStatus(document.getElementById('live-status'), 'ERROR'); showRefusal('deploy', e); }
    else { setStatus(document.getElementById('live-status'), e.record.status); showTimeline(e.record.id); }
    loadHistory();
  }
}

async function showLog(service, step, deploymentId) {
  const label = service + ' ' + step;
  const box = document.getElementById('log-box'), pre = document.getElementById('log');
  document.getElementById('log-title').textContent = 'Log of ' + label;
  box.hidden = false;
  const id = deploymentId || live.deploymentId;
  const running = !deploymentId && live.source;
  live.shown = running ? label : null;
  if (running) { pre.textContent = (live.logs[label] || []).join('\n') + ((live.logs[label] || []).length ? '\n' : ''); return; }
  try {
    const res = await fetch(`/api/log?deployment=${encodeURIComponent(id)}&service=${encodeURIComponent(service)}&step=${encodeURIComponent(step)}`, { cache: 'no-store' });
    pre.textContent = await res.text();
  } catch (err) { pre.textContent = String(err); }
}

async function cancelRun() {
  if (!live.run) return;
  try { await api('POST', `/api/runs/${live.run}/cancel`, {}); } catch (err) { showRefusal('deploy', err); }
}

// A finished deployment's timeline picture (`deployment timeline`); none for records
// older than step start times, and none while a deployment runs.
function showTimeline(id) {
  const img = document.getElementById('timeline');
  if (!id) { img.hidden = true; img.removeAttribute('src'); document.getElementById('timeline-link').removeAttribute('href'); return; }
  img.alt = 'Timeline of deployment ' + id + ': a bar per step, the critical path outlined';
  img.onload = () => { img.hidden = false; };
  img.onerror = () => { img.hidden = true; };
  img.src = '/api/deployments/' + encodeURIComponent(id) + '/timeline.svg';
  document.getElementById('timeline-link').href = img.src;
}

// A finished deployment: its timeline, and its steps as a table with their logs.
async function showDeployment(id) {
  const record = await api('GET', '/api/deployments/' + encodeURIComponent(id));
  live.deploymentId = id;
  if (live.source) { live.source.close(); live.source = null; }
  document.getElementById('live').hidden = false;
  document.getElementById('cancel-button').hidden = true;
  document.getElementById('live-title').textContent = `Deployment ${id} of ${record.environment} at ${record.version}:`;
  setStatus(document.getElementById('live-status'), record.status);
  showTimeline(id);
  const body = document.querySelector('#steps tbody');
  body.replaceChildren();
  for (const stage of record.stages || []) for (const s of stage.services || []) for (const step of s.steps || []) {
    const row = stepRow(s.name, step.step);
    setStatus(row.querySelector('.st'), step.status);
    row.querySelector('.ms').textContent = fmtMs(step.duration_ms || 0);
    row.querySelector('button').onclick = () => showLog(s.name, step.step, id);
  }
}

async function loadHistory() {
  if (!ui.envId) return;
  try {
    const list = await api('GET', '/api/history?environment=' + encodeURIComponent(ui.envId));
    document.querySelector('#history tbody').replaceChildren(...list.map(d => el('tr', { 'data-deployment': d.id },
      el('td', {}, d.id), el('td', {}, d.version), el('td', { class: 'status-' + d.status }, d.status),
      el('td', {}, d.started_at), el('td', {}, fmtMs(d.duration_ms)),
      el('td', {}, el('button', { type: 'button', class: 'small', 'aria-label': 'Steps of deployment ' + d.id,
        onclick: () => showDeployment(d.id) }, 'Steps')))));
  } catch (err) { /* the board's poll shows store problems */ }
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('plan-form').addEventListener('submit', showPlan);
  document.getElementById('deploy-button').addEventListener('click', askOrDeploy);
  document.getElementById('approve-button').addEventListener('click', () => startDeploy(true));
  document.getElementById('reject-button').addEventListener('click', () => {
    document.getElementById('approval').hidden = true;
    showRefusal('deploy', { error: 'not approved: nothing was deployed', exit_code: 5, kind: 'policy' });
  });
  document.getElementById('cancel-button').addEventListener('click', cancelRun);
  document.addEventListener('envchange', () => {
    document.getElementById('plan').hidden = true;
    document.getElementById('deploy-actions').hidden = true;
    loadHistory();
  });
  setTimeout(loadHistory, 300);
});
