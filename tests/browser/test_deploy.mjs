// Deploy from the page: plan first, the approval prompt, live progress by server-sent
// events until DEPLOYED, a step's log, and the history.
import assert from 'node:assert/strict';
import path from 'node:path';
import { makeProject, startUi, stopUi, launch, waitFor, run, shotDir } from './harness.mjs';

const project = makeProject(cli => {
  cli('environment', 'create', 'production', '--type', 'production');
  cli('environment', 'edit', 'production', '--require-approval', 'on');
  cli('context', 'set', '-e', 'production');
  cli('service', 'create', 'Db', '--type', 'database', '--deploy', 'echo migrating; sleep 0.3; echo db-ready');
  cli('service', 'create', 'Api', '--type', 'application', '--build', 'echo compiling',
    '--deploy', 'echo api-up; sleep 0.3');
});
const server = await startUi(project);
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });

await run([
  ['the plan comes first, then the approval prompt', async () => {
    await page.goto(server.url);
    await page.locator('[data-service="Api"]').waitFor();
    await page.fill('#version', '1.4.2');
    await page.click('#plan-button');
    await page.locator('#plan').waitFor();
    assert.match(await page.textContent('#plan'), /Api/);
    await page.click('#deploy-button');
    const prompt = await page.textContent('#approval-text');
    assert.equal(prompt, 'Environment "production" requires approval. Deploy version 1.4.2?');
    assert.equal(project.state().environments[0].services.find(s => s.name === 'Api').current, undefined);
  }],
  ['approved, the deploy shows live progress to DEPLOYED and a step log', async () => {
    await page.click('#approve-button');
    await page.locator('#steps tr[data-step="Db deploy"]').waitFor();
    // A running step's log streams from the events.
    await page.click('[aria-label="Log of Db deploy"]');
    await waitFor('Db output', async () => (await page.textContent('#log')).includes('migrating'), 10000);
    // (waitForFunction would need 'unsafe-eval', which the page's CSP refuses.)
    await waitFor('DEPLOYED', async () => (await page.textContent('#live-status')) === 'DEPLOYED', 20000);
    const statuses = await page.locator('#steps td.st').allTextContents();
    assert.ok(statuses.length >= 3 && statuses.every(s => s === 'SUCCEEDED'), statuses.join(','));
    await page.click('[aria-label="Log of Api deploy"]');
    await waitFor('Api log', async () => (await page.textContent('#log')).includes('api-up'));
    const api = project.state().environments[0].services.find(s => s.name === 'Api');
    assert.equal(api.current.status, 'DEPLOYED');
    assert.equal(api.current.version, '1.4.2');
    await page.locator('#history tbody tr').first().waitFor();
    assert.match(await page.textContent('#history tbody'), /DEPLOYED/);
    await page.screenshot({ path: path.join(shotDir, 'deploy.png'), fullPage: true });
  }],
  ['a finished deployment from the history opens its steps and logs', async () => {
    await page.click('#history tbody tr:first-child button');
    // The timeline picture of `deployment timeline`, loaded and drawn (an <img> of SVG).
    await waitFor('the timeline picture', async () => page.evaluate(() => {
      const img = document.getElementById('timeline');
      return !img.hidden && img.complete && img.naturalWidth > 300 && img.naturalHeight > 100;
    }));
    const svg = await page.evaluate(async () => (await fetch(document.getElementById('timeline-link').href)).text());
    assert.match(svg, /^<\?xml[^]*<svg[^]*Deployment dep_[a-z0-9]+ of &quot;production&quot;/);
    await page.screenshot({ path: path.join(shotDir, 'history.png'), fullPage: true });
    await page.click('[aria-label="Log of Db deploy"]');
    await waitFor('Db log from the record', async () => (await page.textContent('#log')).includes('db-ready'));
  }],
]);
await browser.close();
await stopUi(server);
