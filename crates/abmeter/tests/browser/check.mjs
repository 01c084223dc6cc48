// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core.
// Usage: node check.mjs BASE_URL READ_TOKEN REVIEW_HTML SCREENSHOT_DIR AT
// Fails (exit 1) on a console error, a failed or 4xx/5xx request, a page without its
// heading, or a broken click-through. Called by crates/abmeter/tests/it/dashboard.rs.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [base, token, review, shots, at] = process.argv.slice(2);
const q = `period=2026-Q3&at=${at}`;
const problems = [];

// The browser profile is a fresh folder, removed at the end.
const profile = mkdtempSync(join(tmpdir(), 'abmeter-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  // As root in a container, and with no network beyond loopback.
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
         '--disable-component-update', '--disable-sync', '--disable-quic'],
});
const page = context.pages()[0] ?? await context.newPage();
page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()} (${page.url()})`); });
page.on('pageerror', (e) => problems.push(`page error: ${e.message} (${page.url()})`));
page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });

async function visit(path) {
  const res = await page.goto(base + path, { waitUntil: 'load' });
  if (!res || res.status() !== 200) problems.push(`${path}: status ${res?.status()}`);
  if (await page.locator('h1').count() !== 1) problems.push(`${path}: no heading`);
  if (await page.locator('[role=alert]').count() > 0) {
    problems.push(`${path}: ${await page.locator('[role=alert]').first().innerText()}`);
  }
}

// Sign in through the form, as a person would.
await page.goto(`${base}/accounts?${q}`);
if (!page.url().includes('/login')) problems.push(`not sent to /login: ${page.url()}`);
await page.fill('input[name=token]', token);
await page.click('button[type=submit]');
await page.waitForURL(/\/accounts/);
if (!page.url().includes('/accounts')) problems.push(`login did not return to the list: ${page.url()}`);

for (const path of ['/', '/accounts', '/mqa', '/channels', '/web', '/funnel', '/pipeline',
                    '/attribution', '/customers', '/roi']) {
  await visit(`${path}?${q}`);
  console.log(`${path} ok`);
}
await visit(`/?${q}&lang=zh-CN`);
if ((await page.locator('html').getAttribute('lang')) !== 'zh-CN') problems.push('zh-CN not applied');
await visit(`/?${q}&lang=en`);

// Click-through: the accounts list → the first account → a heatmap cell → the timeline
// filtered by that cell's department and seniority.
await visit(`/accounts?${q}`);
await page.screenshot({ path: join(shots, 'accounts.png'), fullPage: false });
await page.locator('#accounts tbody a').first().click();
await page.waitForURL(/\/accounts\/[^/?]+/);
if (!/\/accounts\/[^/?]+/.test(page.url())) problems.push(`not on an account page: ${page.url()}`);
await page.screenshot({ path: join(shots, 'account.png'), fullPage: true });
// A cell with minutes in it (its value is drawn).
const cell = page.locator('#heatmap a.ch-link:has(text.ch-cv)').first();
const dept = await cell.getAttribute('data-row');
await cell.click();
await page.waitForURL(/segment=/);
const url = new URL(page.url());
const segments = url.searchParams.getAll('segment');
if (!segments.some((s) => s.startsWith('department=')) || !segments.some((s) => s.startsWith('seniority='))) {
  problems.push(`the cell did not filter the timeline: ${page.url()}`);
}
const department = segments.find((s) => s.startsWith('department=')).split('=')[1];
if (department.replace(/_/g, ' ') !== dept) problems.push(`cell ${dept} filtered ${department}`);
const shownDepartments = await page.locator('#timeline td[data-field=department]').allInnerTexts();
if (shownDepartments.some((d) => d !== department)) problems.push(`timeline rows of other departments: ${shownDepartments}`);
if (await page.locator('#timeline .filtered').count() !== 1) problems.push('the filter is not shown');
console.log(`click-through ok (${department}, ${shownDepartments.length} rows)`);

// The review file, offline: nothing but file:// may be requested.
page.removeAllListeners('response');
const requests = [];
page.on('request', (r) => requests.push(r.url()));
await page.goto(pathToFileURL(review).href, { waitUntil: 'load' });
if (requests.some((u) => !u.startsWith('file:'))) problems.push(`the review fetched: ${requests}`);
await page.screenshot({ path: join(shots, 'review.png'), fullPage: true });
await page.pdf?.({ path: join(shots, 'review.pdf') }).catch(() => {});

await context.close();
rmSync(profile, { recursive: true, force: true });
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('all pages ok');
