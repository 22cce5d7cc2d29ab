// The board in a real headless Chromium (DESIGN §10): drag, keyboard, stage buttons, and a
// CLI change made in another process, all checked against state.json.
import assert from 'node:assert/strict';
import path from 'node:path';
import { makeProject, startUi, stopUi, launch, waitFor, stageOf, run, shotDir } from './harness.mjs';

const project = makeProject(cli => {
  cli('environment', 'create', 'staging');
  cli('context', 'set', '-e', 'staging');
  cli('service', 'create', 'Api', '--type', 'application', '--deploy', 'true');
  cli('service', 'create', 'Web', '--type', 'application', '--deploy', 'true');
  cli('service', 'create', 'Db', '--type', 'database', '--deploy', 'true');
  cli('service', 'depend', 'Web', '--on', 'Api');
});
const server = await startUi(project);
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
const card = name => page.locator(`[data-service="${name}"]`);
const column = name => page.locator(`section.column[data-stage="${name}"]`);
const order = () => project.state().environments[0].stages.map(s => s.name);

await run([
  ['the page opens with the token, which becomes a cookie', async () => {
    await page.goto(server.url);
    assert.equal(new URL(page.url()).search, '', 'the token is dropped from the address');
    await card('Api').waitFor();
    const cookies = await page.context().cookies();
    const c = cookies.find(k => k.name === `depctl_ui_${server.port}`);
    assert.ok(c && c.httpOnly && c.sameSite === 'Strict', JSON.stringify(cookies));
  }],
  ['dragging a card to another stage moves the service', async () => {
    await card('Api').dragTo(column('JOB DEFAULT'));
    await waitFor('state.json to show the move', () => stageOf(project.state(), 'staging', 'Api') === 'JOB DEFAULT');
    await column('JOB DEFAULT').locator('[data-service="Api"]').waitFor();
  }],
  ['dragging a column header reorders the stages', async () => {
    const before = order();
    assert.equal(before[0], 'DATABASE DEFAULT');
    await page.locator('[data-stage-head="DATABASE DEFAULT"]').dragTo(column(before[2]));
    await waitFor('the stage to move after the third', () => order().indexOf('DATABASE DEFAULT') === 2);
  }],
  ['create, rename, and delete a stage; a non-empty stage is refused with the CLI message', async () => {
    await page.click('#new-stage');
    await page.fill('#new-stage-form input[name=name]', 'canary');
    await page.fill('#new-stage-form input[name=description]', 'a few pods first');
    await page.click('#new-stage-form button[type=submit]');
    await waitFor('the new stage', () => order().includes('canary'));
    await page.click('[aria-label="Rename stage canary"]');
    await page.fill('[data-rename="canary"] input[name=name]', 'canary-1');
    await page.click('[data-rename="canary"] button[type=submit]');
    await waitFor('the rename', () => order().includes('canary-1'));
    await page.click('[aria-label="Delete stage canary-1"]');
    await waitFor('the delete', () => !order().includes('canary-1'));
    const stateBefore = JSON.stringify(project.state());
    await page.click('[aria-label="Delete stage JOB DEFAULT"]');
    const box = page.locator('[data-refusal="stage:JOB DEFAULT"]');
    await waitFor('the refusal', async () => (await box.textContent()).includes('still holds'));
    const text = await box.textContent();
    assert.match(text, /^error: stage "JOB DEFAULT" still holds 1 service \(Api\)/);
    assert.match(text, /exit code 3: refused/);
    let cliMessage = '';
    try { project.cli('environment', 'stage', 'delete', '-n', 'JOB DEFAULT'); } catch (e) { cliMessage = e.stderr; }
    assert.ok(cliMessage.includes(text.split('\n')[0]), `CLI said ${cliMessage}`);
    assert.equal(JSON.stringify(project.state()), stateBefore, 'a refusal writes nothing');
    await page.screenshot({ path: path.join(shotDir, 'board-refusal.png') });
  }],
  ['skip and unskip a service', async () => {
    await page.click('[aria-label="Skip Db"]');
    await waitFor('Db skipped', () => project.state().environments[0].services.find(s => s.name === 'Db').skipped === true);
    await page.click('[aria-label="Unskip Db"]');
    await waitFor('Db unskipped', () => !project.state().environments[0].services.find(s => s.name === 'Db').skipped);
  }],
  ['the keyboard moves a service: focus, Enter, arrows, Enter', async () => {
    const from = stageOf(project.state(), 'staging', 'Web');
    const stages = order();
    const target = stages[stages.indexOf(from) - 1];  // the stage on its left
    await card('Web').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    await waitFor('Web to move left', () => stageOf(project.state(), 'staging', 'Web') === target)
      .catch(async e => { throw new Error(e.message + ' from ' + from + ' to ' + target + ': ' + await page.locator('[data-refusal="service:Web"]').textContent() + ' / ' + await page.locator('#announce').textContent()); });
    const focused = page.locator(`section.column[data-stage="${target}"] [data-service="Web"]:focus`);
    await focused.waitFor();
  }],
  ['a CLI stage move in another process shows up within a second', async () => {
    project.cli('environment', 'stage', 'move', '-n', 'Db', '-s', 'CONTAINER DEFAULT');
    // The poll runs every 400 ms; one second is the promise of DESIGN §10.
    await column('CONTAINER DEFAULT').locator('[data-service="Db"]').waitFor({ timeout: 1000 });
    await page.locator('[data-service="Web"]').hover();
    await page.screenshot({ path: path.join(shotDir, 'board.png') });
  }],
]);
await browser.close();
await stopUi(server);
