// Opens the web console in headless Chromium N times and prints JSON: first contentful
// paint and the moment the board's cards are in the page (the page's `board-rendered`
// mark), in ms from navigation start. Usage: node bench/ui_paint.mjs URL RUNS
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { chromium } = await import(path.join(root, 'tests/browser/node_modules/playwright-core/index.mjs'));
const [url, runs] = [process.argv[2], Number(process.argv[3] || 5)];
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1500, height: 900 } });
const page = await context.newPage();
await page.goto(url);  // trades the token for the cookie
const out = { fcp: [], board: [], cards: 0 };
for (let i = 0; i < runs; i++) {
  await page.goto(url.replace(/\?token=.*/, ''), { waitUntil: 'load' });
  await page.locator('.card').first().waitFor();
  const m = await page.evaluate(() => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const board = performance.getEntriesByName('board-rendered')[0];
    return { fcp: fcp ? fcp.startTime : null, board: board ? board.startTime : null, cards: document.querySelectorAll('.card').length };
  });
  out.fcp.push(m.fcp); out.board.push(m.board); out.cards = m.cards;
}
await browser.close();
console.log(JSON.stringify(out));
