// Shared by the browser tests: a project in a temp directory, `depctl ui` on a free port,
// and Debian's headless Chromium driven by playwright-core.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// playwright-core comes from `npm ci` in this directory (scripts/install-deps.sh does it).
// Without it the tests cannot run: ctest reports them as skipped (77), loudly, rather
// than failing every worktree that has not installed it yet.
const here = path.dirname(fileURLToPath(import.meta.url));
if (!fs.existsSync(path.join(here, 'node_modules', 'playwright-core'))) {
  console.log('SKIPPED: playwright-core is not installed; run scripts/install-deps.sh ' +
    '(npm ci --prefix tests/browser)');
  process.exit(77);
}
const { chromium } = await import('playwright-core');

export const bin = process.env.DEPCTL_BIN;
if (!bin) throw new Error('DEPCTL_BIN is not set (ctest sets it)');
export const shotDir = process.env.DEPCTL_SCREENSHOTS || path.join(os.tmpdir(), 'depctl-ui-shots');

// Every project directory goes when the test process ends, passed or failed (the
// screenshots, kept for a look, live in shotDir).
const projects = [];
process.on('exit', () => {
  for (const dir of projects) fs.rmSync(dir, { recursive: true, force: true });
});

export function makeProject(setup) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'depctl-ui-'));
  projects.push(dir);
  const env = { ...process.env, HOME: dir, XDG_CONFIG_HOME: path.join(dir, '.config'), DEPCTL_STATE: path.join(dir, '.depctl/state.json') };
  delete env.DEPCTL_ENVIRONMENT;
  const cli = (...args) => execFileSync(bin, args, { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  cli('init', '--project', 'shop');
  setup(cli);
  const state = () => JSON.parse(fs.readFileSync(env.DEPCTL_STATE, 'utf8'));
  return { dir, env, cli, state };
}

// Starts `depctl ui --no-open` and resolves with its URL once it printed it.
export function startUi(project) {
  const child = spawn(bin, ['ui', '--no-open'], { cwd: project.dir, env: { ...project.env, DISPLAY: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('depctl ui printed no URL: ' + out)), 10000);
    child.stdout.on('data', d => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\/\?token=[0-9a-f]+/);
      if (m) { clearTimeout(timer); resolve({ child, url: m[0], port: Number(m[1]) }); }
    });
    child.on('exit', code => reject(new Error('depctl ui exited ' + code + ': ' + out)));
  });
}

export async function stopUi(server) {
  server.child.removeAllListeners('exit');
  const exited = new Promise(r => server.child.once('exit', code => r(code)));
  server.child.kill('SIGINT');
  const code = await exited;
  if (code !== 0) throw new Error('depctl ui exited ' + code + ' on SIGINT');
  return code;
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

export async function waitFor(what, fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise(r => setTimeout(r, 25));
  }
}

export function stageOf(state, envName, serviceName) {
  const env = state.environments.find(e => e.name === envName);
  const svc = env.services.find(s => s.name === serviceName);
  return env.stages.find(s => s.id === svc.stage_id).name;
}

// Runs the named async tests in order, prints each, exits non-zero on the first failure.
export async function run(tests) {
  fs.mkdirSync(shotDir, { recursive: true });
  for (const [name, fn] of tests) {
    const t0 = Date.now();
    try { await fn(); console.log(`ok   ${name} (${Date.now() - t0} ms)`); }
    catch (e) { console.log(`FAIL ${name}\n${e.stack || e}`); process.exitCode = 1; return; }
  }
}
