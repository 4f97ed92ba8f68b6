// Browser tests of the chat widget (GET /widget.js) on a shop's pages,
// against a running suite; run like console.test.mjs, with the same
// environment (BASE_URL, SITE_KEY, OWNER_*, MANAGER_*, SCREENSHOT_DIR).
//
// The shop is served here, by node's http module on a random port of
// 127.0.0.1: another origin than the suite's, as a real shop is. It serves
// the demo shop's pages from services/gateway/static/demo-shop (with the
// placeholders filled in) and small test pages. Before the tests the owner
// saves the widget settings through the API with the shop's origin as the
// one allowed site; after them the settings are put back as they were.
//
// Each test takes a fresh browser context, so a fresh visitor. A check that
// something did not happen waits first for a later event that did.

import { test, beforeEach, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { devices } from 'playwright-core';
import {
  env, launchBrowser, openConsole, unique, showCategory, openDialog, sendFromComposer, eventually, screenshot,
  withCleanup,
} from './support.mjs';

const TEST_TIMEOUT = 90_000;
/** The widget loads on every page of every shop: its budget, gzipped, styles and sounds included. */
const WIDGET_BUDGET_GZIP_BYTES = 30 * 1024;
const DEMO_SHOP_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../services/gateway/static/demo-shop');
const STUB = 'window.ChatWidget=window.ChatWidget||function(){(ChatWidget.q=ChatWidget.q||[]).push(arguments)};';
const SNIPPET = `<script>${STUB}</script>
<script async src="${env.baseUrl}/widget.js" data-site-key="${env.siteKey}"></script>`;
/** A strict policy, as a careful shop has: no inline styles, scripts only by hash or from the suite. */
const STRICT_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${createHash('sha256').update(STUB).digest('base64')}' ${env.baseUrl}`,
  "style-src 'self'",
  `connect-src ${env.baseUrl} ${env.baseUrl.replace(/^http/, 'ws')}`,
  `img-src ${env.baseUrl}`,
].join('; ');
const EDITABLE = ['enabled', 'manager_sound', 'visitor_sound', 'position', 'color', 'online_title', 'online_message',
  'offline_title', 'offline_message', 'hidden_pages', 'allowed_origins', 'language', 'language_from_browser'];

let browser;
let ownerToken;
let shop; // { origin, close }
let stranger; // a site that is not allowed
let originalSettings;
/** The settings every test starts from; a test that changes them puts these back. */
let baseSettings;

// ------------------------------------------------------------ the test shop

/**
 * A page of the test shop: the snippet, a title, and whatever the path asks
 * for: /hostile/... carries CSS that hides every div and every child of
 * body, /csp/... a strict Content-Security-Policy, /demo/<file> is the demo
 * shop's page.
 */
async function shopPage(url) {
  if (url.pathname.startsWith('/demo/')) {
    const file = path.basename(url.pathname) || 'index.html';
    const text = await readFile(path.join(DEMO_SHOP_DIR, file), 'utf8');
    const body = text.replaceAll('{{GATEWAY_ORIGIN}}', env.baseUrl).replaceAll('{{SITE_KEY}}', env.siteKey);
    return { type: file.endsWith('.css') ? 'text/css' : 'text/html', body };
  }
  if (url.pathname.startsWith('/wide/')) {
    // Wider than a phone's screen whatever its viewport meta says: the phone shows it zoomed out.
    const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Wide shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"></head>
<body style="margin:0"><div style="width:1200px;height:3000px;background:linear-gradient(#eef,#fee)"><h1>A wide shop</h1></div>
${SNIPPET}</body></html>`;
    return { type: 'text/html', body };
  }
  const hostile = url.pathname.startsWith('/hostile/');
  if (url.pathname.startsWith('/csp/')) {
    const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Strict shop</title></head>
<body><h1>A shop with a strict policy</h1>${SNIPPET}</body></html>`;
    return { type: 'text/html', body, headers: { 'content-security-policy': STRICT_CSP } };
  }
  const style = hostile
    ? `<style>
        body * { display: none !important; visibility: hidden !important; }
        body > * { display: none !important; transform: scale(0) !important; }
        div { display: none !important; }
        chat-widget-root, [class*="chat"] { display: none !important; opacity: 0 !important; position: static !important; }
        button { all: unset; display: none !important; }
        html, body { overflow: hidden; font-size: 30px; }
      </style>`
    : '<style>body { font: 18px Georgia, serif; margin: 40px; }</style>';
  const title = url.searchParams.get('title') || `Test shop ${url.pathname}`;
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title.replace(/[<&]/g, '')}</title>
<link rel="icon" href="data:,">${style}</head>
<body><div class="content"><h1>Test shop</h1><p>A page of the widget's browser tests.</p></div>
${SNIPPET}</body></html>`;
  return { type: 'text/html', body };
}

async function startShop() {
  const server = http.createServer(async (request, response) => {
    try {
      const page = await shopPage(new URL(request.url, 'http://shop'));
      response.writeHead(200, { 'content-type': `${page.type}; charset=utf-8`, 'cache-control': 'no-store', ...page.headers });
      response.end(page.body);
    } catch {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

// ------------------------------------------------------------------ the API

async function api(method, apiPath, body, token = ownerToken) {
  const response = await fetch(`${env.baseUrl}/api/v1${apiPath}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function login(account) {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${env.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: account.email, password: account.password }),
    });
    if (response.status === 429 && attempt < 5) {
      await new Promise((resolve) => setTimeout(resolve, (Number(response.headers.get('retry-after')) || 5) * 1000));
      continue;
    }
    const body = await response.json();
    assert.equal(response.status, 200, `sign-in of ${account.email}: ${JSON.stringify(body)}`);
    return body.token;
  }
}

const editable = (settings) => Object.fromEntries(EDITABLE.map((key) => [key, settings[key]]));

/** Saves the base settings with these changes; answers the saved settings. */
async function saveSettings(changes = {}) {
  const saved = await api('PUT', '/widget/settings', { ...baseSettings, ...changes });
  assert.equal(saved.status, 200, `saving the widget settings: ${JSON.stringify(saved.body)}`);
  return saved.body;
}

/** A small round avatar, as PNG bytes, drawn by the browser. */
async function avatarPng() {
  const context = await browser.newContext({ viewport: { width: 96, height: 96 } });
  const page = await context.newPage();
  await page.setContent(`<body style="margin:0"><div style="width:96px;height:96px;display:grid;place-items:center;
    background:linear-gradient(135deg,#f6c177,#e36f8a);font:600 40px system-ui;color:#fff">AP</div></body>`);
  const png = await page.screenshot({ type: 'png' });
  await context.close();
  return png;
}

// ------------------------------------------------------------- the visitor

/**
 * A visitor's page of the shop, in a fresh context: what the widget's
 * sockets were (page.on('websocket')), the JavaScript dialogs that tried to
 * open, and the widget's parts as locators (they pierce the shadow root).
 */
async function openShop(pagePath, { origin = shop.origin, viewport = { width: 1366, height: 768 }, context } = {}) {
  context = context || await browser.newContext({ viewport });
  const page = await context.newPage();
  const visitor = widgetOf(page);
  visitor.context = context;
  page.on('websocket', (socket) => {
    const entry = { url: socket.url(), closed: false };
    socket.on('close', () => { entry.closed = true; });
    visitor.sockets.push(entry);
  });
  page.on('dialog', (dialog) => {
    visitor.alerts.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (error) => visitor.errors.push(error.message));
  page.on('console', (message) => { if (message.type() === 'error' || message.type() === 'warning') visitor.errors.push(`console: ${message.text()}`); });
  page.on('requestfailed', (request) => visitor.errors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  if (pagePath !== null) await page.goto(origin + pagePath);
  return visitor;
}

function widgetOf(page) {
  const root = page.locator('chat-widget-root');
  return {
    page,
    sockets: [],
    alerts: [],
    errors: [],
    root,
    button: root.locator('.btn'),
    badge: root.locator('.badge'),
    window: root.locator('.win'),
    title: root.locator('.title'),
    sub: root.locator('.sub'),
    photo: root.locator('img.ava'),
    email: root.locator('input.email'),
    input: root.locator('textarea'),
    bar: root.locator('.bar'),
    mine: (text) => root.locator('.m.v:not(.pending) .b', { hasText: text }),
    theirs: (text) => root.locator('.m.a .b', { hasText: text }),
    async open() {
      await this.button.waitFor().catch((error) => {
        throw new Error(`${error.message}\npage errors: ${JSON.stringify(this.errors)}`);
      });
      await this.button.click();
      await this.input.waitFor();
      await eventually(() => this.input.evaluate((element) => element.getRootNode().activeElement === element), { message: 'the focus in the message box' });
    },
    async write(text) {
      await this.input.fill(text);
      await this.input.press('Enter');
      await this.mine(text).waitFor();
    },
  };
}

/** Counts the tones the pages of this context play (the widget synthesizes its sounds). */
async function countTones(context) {
  await context.addInitScript(() => {
    window.__tones = 0;
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (...args) {
      window.__tones++;
      return start.apply(this, args);
    };
  });
}
const tones = (page) => page.evaluate(() => window.__tones);

/** Settings changed by a test go back to the base ones when it ends, whatever happened. */
const restoresSettings = { close: () => saveSettings() };

/** The dialog of a contact. */
async function dialogOf(contactId) {
  const found = await api('GET', `/dialogs?contact_id=${contactId}`);
  assert.equal(found.status, 200, JSON.stringify(found.body));
  assert.equal(found.body.dialogs.length, 1, `one dialog of contact ${contactId}`);
  return found.body.dialogs[0].id;
}

/** The contact of the visitor on this page, from the visitors list (by its unique address). */
async function contactOn(pageUrl) {
  const visitor = await eventually(async () => {
    const list = await api('GET', '/visitors');
    assert.equal(list.status, 200, JSON.stringify(list.body));
    return list.body.visitors.find((candidate) => candidate.page_url === pageUrl);
  }, { message: `the visitor on ${pageUrl} in GET /visitors` });
  return visitor.contact_id;
}

// ------------------------------------------------------------------- set-up

// Set up by the first test that runs (a run whose name pattern skips every
// test here changes nothing in the account).
let setUp = null;
beforeEach(() => (setUp ??= setUpOnce()));

async function setUpOnce() {
  browser = await launchBrowser();
  shop = await startShop();
  stranger = await startShop();
  ownerToken = await login(env.owner);
  const current = await api('GET', '/widget/settings');
  assert.equal(current.status, 200, JSON.stringify(current.body));
  originalSettings = current.body;
  baseSettings = {
    ...editable(originalSettings),
    enabled: true,
    hidden_pages: [],
    allowed_origins: [shop.origin],
    position: 'bottom_right',
    color: '#2f6f4e',
    visitor_sound: 'chime',
    online_title: 'We are online',
    online_message: 'Ask us about any tea: we usually answer within a minute.',
    offline_title: 'We will be back at 9:00',
    offline_message: 'Leave your e-mail and a message, and we will write back.',
  };
  await saveSettings();
}

after(async () => {
  // Put back what the account had (in a fresh suite: enabled, no hidden pages, any site).
  if (originalSettings) {
    const restore = { ...editable(originalSettings), offline_photo: originalSettings.offline_photo_url ? undefined : null };
    const restored = await api('PUT', '/widget/settings', restore);
    if (restored.status !== 200) console.error('could not restore the widget settings', restored);
  }
  await browser?.close();
  await shop?.close();
  await stranger?.close();
});

// -------------------------------------------------------------------- tests

test('widget.js as served stays within its size budget and builds no markup from strings', { timeout: TEST_TIMEOUT }, async () => {
  const response = await fetch(`${env.baseUrl}/widget.js`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') || '', /javascript/);
  const source = Buffer.from(await response.arrayBuffer());
  const gzipped = gzipSync(source, { level: 9 }).length;
  assert.ok(gzipped <= WIDGET_BUDGET_GZIP_BYTES, `widget.js is ${gzipped} bytes gzipped, over the budget of ${WIDGET_BUDGET_GZIP_BYTES}`);
  assert.doesNotMatch(source.toString(), /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
});

test('a visitor writes from the widget, the manager answers from the console, the widget shows the answer', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const manager = keep(await openConsole(browser, env.manager));
    await showCategory(manager.page, 'new');
    const context = keep(await browser.newContext({ viewport: { width: 1366, height: 768 } }));
    await countTones(context);
    const visitor = await openShop(`/demo/index.html`, { context });
    await visitor.open();
    const question = unique('Is the Silver Needle in stock?');
    await visitor.write(question);

    const item = manager.page.locator('.dialog-item', { hasText: question });
    await item.waitFor();
    await item.click();
    await manager.page.locator('.msg-in .msg-text', { hasText: question }).waitFor();
    assert.equal(await tones(visitor.page), 0, 'no sound for the visitor’s own message');
    const answer = unique('Yes, 40 packs left');
    await sendFromComposer(manager.page, answer);
    await visitor.theirs(answer).waitFor();
    await eventually(async () => (await tones(visitor.page)) > 0, { message: 'the sound of the answer' });
    assert.equal(await visitor.root.locator('.m.v .b').count(), 1, 'the question is shown once (its ack and its echo are one message)');
    assert.deepEqual(visitor.errors, []);
    assert.equal(visitor.sockets.length, 1, 'one socket');
  });
});

test('files go both ways: the visitor attaches a photo, the manager sees its thumbnail and answers with a document', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const manager = keep(await openConsole(browser, env.manager));
    await showCategory(manager.page, 'new');
    const visitor = await openShop('/demo/index.html');
    keep(visitor.context);
    await visitor.open();
    // The photo, by the paperclip: a chip while it uploads, then sent.
    const photo = await avatarPng();
    await visitor.root.locator('input.files').setInputFiles({ name: 'teapot.png', mimeType: 'image/png', buffer: photo });
    await visitor.root.locator('.chips .chip[data-state="ready"]').waitFor();
    await screenshot(visitor.page, 'widget-file-chip.png');
    await visitor.input.press('Enter');
    const sent = visitor.root.locator('.m.v .at img');
    await sent.waitFor();
    await eventually(() => sent.evaluate((img) => img.complete && img.naturalWidth > 0), { message: 'the thumbnail in the widget' });
    await visitor.root.locator('.chips .chip').waitFor({ state: 'detached' });
    const question = unique('Does this one come in green?');
    await visitor.write(question);

    const item = manager.page.locator('.dialog-item', { hasText: question });
    await item.waitFor();
    await item.click();
    const thumbnail = manager.page.locator('.msg-attachments a.msg-image img');
    await thumbnail.waitFor();
    await eventually(() => thumbnail.evaluate((img) => img.complete && img.naturalWidth > 0), { message: 'the thumbnail in the console' });
    const full = await manager.page.locator('.msg-attachments a.msg-image').getAttribute('href');
    const opened = await manager.page.evaluate(async (href) => {
      const response = await fetch(href);
      return { status: response.status, type: response.headers.get('content-type') };
    }, full);
    assert.deepEqual(opened, { status: 200, type: 'image/png' });

    // The manager answers with a document and words.
    await manager.page.locator('.composer input.composer-file-input').setInputFiles({
      name: 'price-list.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 price list'),
    });
    await manager.page.locator('.attach-chip[data-state="ready"]').waitFor();
    await screenshot(manager.page, 'console-file-chip.png');
    const answer = unique('Here is the price list');
    await sendFromComposer(manager.page, answer);
    await manager.page.locator('a.msg-file', { hasText: 'price-list.pdf' }).waitFor();
    await visitor.theirs(answer).waitFor();
    const file = visitor.root.locator('.m.a .at .at-f', { hasText: 'price-list.pdf' });
    await file.waitFor();
    await screenshot(visitor.page, 'widget-files.png');
    await screenshot(manager.page, 'console-files.png');
    // Nothing overflows the window, at a laptop's size, a large screen's and a phone's.
    for (const [viewport, name] of [[{ width: 1920, height: 1080 }, '1920'], [{ width: 390, height: 844 }, 'phone']]) {
      await visitor.page.setViewportSize(viewport);
      if (name === '1920') await manager.page.setViewportSize(viewport);
      await eventually(async () => {
        const win = await visitor.window.boundingBox();
        const link = await file.boundingBox();
        return link && win && link.x >= win.x && link.x + link.width <= win.x + win.width + 0.5;
      }, { message: `the file inside the widget at ${name}` });
      await screenshot(visitor.page, `widget-files-${name}.png`);
    }
    await screenshot(manager.page, 'console-files-1920.png');
    const download = visitor.page.waitForEvent('download');
    await file.click();
    assert.equal((await download).suggestedFilename(), 'price-list.pdf');
    assert.deepEqual(visitor.errors, []);
  });
});

test('a file that is not taken is refused on its chip with the reason, and nothing is sent', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const visitor = await openShop('/demo/index.html');
    keep(visitor.context);
    await visitor.open();
    await visitor.root.locator('input.files').setInputFiles({ name: 'setup.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') });
    const chip = visitor.root.locator('.chips .chip[data-state="failed"]');
    await chip.waitFor();
    assert.match(await chip.innerText(), /kind|type|not/i);
    await screenshot(visitor.page, 'widget-file-refused.png');
    await chip.locator('.chip-x').click();
    await chip.waitFor({ state: 'detached' });
    assert.equal(await visitor.root.locator('.m.v').count(), 0, 'nothing was sent');
  });
});

test('with no manager online the widget is in offline mode with the photo, and turns online when a manager opens the console', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    keep({ close: () => saveSettings({ offline_photo: null }) });
    const saved = await saveSettings({ offline_photo: (await avatarPng()).toString('base64') });
    assert.match(saved.offline_photo_url, /^\/widget\/v1\/photos\//);
    const visitor = keep(await openShop(`/t/${unique('offline')}`));
    await visitor.open();
    // Every console of this file's tests is closed; the suite may take a moment to notice.
    await visitor.title.filter({ hasText: baseSettings.offline_title }).waitFor({ timeout: 20_000 });
    await visitor.sub.filter({ hasText: baseSettings.offline_message }).waitFor();
    await visitor.photo.waitFor();
    assert.equal(await visitor.photo.getAttribute('src'), env.baseUrl + saved.offline_photo_url);
    await eventually(() => visitor.photo.evaluate((img) => img.complete && img.naturalWidth > 0), { message: 'the photo loaded' });
    await visitor.email.waitFor();

    // The e-mail goes with the first message: the contact gets it.
    const email = `${unique('buyer').toLowerCase()}@example.com`;
    await visitor.email.fill(email);
    await visitor.write(unique('Please write to me about a wholesale order'));
    await eventually(async () => {
      const found = await api('GET', `/contacts?q=${encodeURIComponent(email)}`);
      return found.status === 200 && found.body.contacts.some((contact) => contact.email === email);
    }, { message: 'the contact with the e-mail from the offline form' });

    const manager = keep(await openConsole(browser, env.manager));
    await visitor.title.filter({ hasText: baseSettings.online_title }).waitFor();
    await visitor.photo.waitFor({ state: 'hidden' });
    await visitor.email.waitFor({ state: 'hidden' });

    await manager.context.close();
    await visitor.title.filter({ hasText: baseSettings.offline_title }).waitFor({ timeout: 20_000 });
  });
});

test('saved settings reach an open widget without a reload', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    keep(restoresSettings);
    const pagePath = `/t/${unique('settings')}`;
    const visitor = keep(await openShop(pagePath));
    await visitor.open();
    // Connected: the suite lists the visitor on this page.
    await contactOn(shop.origin + pagePath);
    const before = await visitor.button.boundingBox();
    assert.ok(before.x > 1366 / 2, 'at the bottom right first');

    const onlineTitle = unique('Tea masters here');
    const offlineTitle = unique('Tea masters asleep');
    await saveSettings({ position: 'bottom_left', color: '#b4235a', online_title: onlineTitle, offline_title: offlineTitle });
    await visitor.title.filter({ hasText: new RegExp(`${onlineTitle}|${offlineTitle}`) }).waitFor();
    await eventually(async () => (await visitor.button.boundingBox()).x < 1366 / 2, { message: 'the button moving to the left' });
    const colors = await visitor.root.evaluate((host) => ({
      button: getComputedStyle(host.shadowRoot.querySelector('.btn')).backgroundColor,
      header: getComputedStyle(host.shadowRoot.querySelector('.head')).backgroundColor,
    }));
    assert.deepEqual(colors, { button: 'rgb(180, 35, 90)', header: 'rgb(180, 35, 90)' });
    const windowBox = await visitor.window.boundingBox();
    assert.ok(windowBox.x < 1366 / 2, 'the window is on the left too');
    assert.equal(visitor.sockets.length, 1, 'the same socket: no reload, no reconnect');
  });
});

test('with the chat off the widget shows nothing and opens no socket', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    keep(restoresSettings);
    await saveSettings({ enabled: false });
    const visitor = keep(await openShop(null));
    const firstConfig = visitor.page.waitForResponse((response) => response.url().includes('/widget/v1/config'));
    await visitor.page.goto(`${shop.origin}/t/${unique('off')}`);
    const config = await (await firstConfig).json();
    assert.equal(config.enabled, false);
    // An in-page navigation asks again: by its answer the first one was long handled.
    const secondConfig = visitor.page.waitForResponse((response) => response.url().includes('/widget/v1/config'));
    await visitor.page.evaluate(() => history.pushState(null, '', location.pathname + '-next'));
    assert.equal((await (await secondConfig).json()).enabled, false);
    // Its answer taken in: the page's script runs on after it.
    await visitor.page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    assert.equal(await visitor.root.count(), 0, 'no widget element');
    assert.deepEqual(visitor.sockets, [], 'no WebSocket');

    // Turned on again, the next page view shows it.
    await saveSettings();
    await visitor.page.evaluate(() => history.pushState(null, '', location.pathname + '-again'));
    await visitor.button.waitFor();
    await eventually(() => visitor.sockets.length === 1, { message: 'the socket once the chat is on' });
  });
});

test('an open page loses the widget when the chat is turned off or its site is no longer allowed, and gets it back without a reload', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    keep(restoresSettings);
    const visitor = keep(await openShop(null));
    // The widget's timers on a clock the test moves.
    await visitor.page.clock.install();
    await visitor.page.goto(`${shop.origin}/t/${unique('comes-back')}`);
    await visitor.button.waitFor();
    const elsewhere = 'https://elsewhere.example';
    for (const [what, off] of [['the chat off', { enabled: false }], ['the site not allowed', { allowed_origins: [elsewhere] }]]) {
      await saveSettings(off);
      await visitor.button.waitFor({ state: 'detached' });
      await saveSettings();
      await eventually(async () => {
        await visitor.page.clock.runFor(5_000);
        return visitor.button.isVisible();
      }, { message: `the widget back after ${what}`, timeout: 20_000 });
      await eventually(() => visitor.sockets.at(-1) && !visitor.sockets.at(-1).closed, { message: `a socket again after ${what}` });
    }
    assert.deepEqual(visitor.errors.filter((error) => !error.includes('403')), []);
  });
});

test('a page matching a hidden pattern shows nothing, a sibling page shows the widget', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    keep(restoresSettings);
    const secret = unique('secret');
    await saveSettings({ hidden_pages: [`/t/${secret}/*`, 'example.invalid/never/*'] });
    const visitor = keep(await openShop(null));
    const hiddenConfig = visitor.page.waitForResponse((response) => response.url().includes('/widget/v1/config'));
    await visitor.page.goto(`${shop.origin}/t/${secret}/checkout`);
    const config = await (await hiddenConfig).json();
    assert.equal(config.enabled, true);
    assert.equal(config.hidden, true);

    // The sibling page, reached in-page: the widget comes, with its socket.
    const siblingConfig = visitor.page.waitForResponse((response) => response.url().includes('/widget/v1/config'));
    await visitor.page.evaluate((secret) => history.pushState(null, '', `/t/${secret}-sibling/catalogue`), secret);
    assert.equal((await (await siblingConfig).json()).hidden, false);
    await visitor.button.waitFor();
    await eventually(() => visitor.sockets.length === 1, { message: 'the socket on the sibling page' });
    // Until then there was no widget and no socket on the hidden page: the
    // only socket is the sibling page's, opened after its config.

    // Back to a hidden page in-page: the widget goes, and so does its socket.
    await visitor.page.evaluate((secret) => history.pushState(null, '', `/t/${secret}/payment`), secret);
    await visitor.root.waitFor({ state: 'detached' });
    await eventually(() => visitor.sockets[0].closed, { message: 'the socket closing on the hidden page' });

    // And a sibling page loaded afresh shows it.
    const other = keep(await openShop(`/t/${secret}-other/`));
    await other.button.waitFor();
  });
});

test('markup in messages is shown as text in the widget and in the console, and never runs', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const markup = '<img src=x onerror=alert(1)>';
    const pagePath = `/t/${unique('markup')}`;
    const visitor = keep(await openShop(pagePath));
    await visitor.open();
    await visitor.write(markup);
    assert.equal(await visitor.mine(markup).textContent(), markup);

    const dialogId = await dialogOf(await contactOn(shop.origin + pagePath));
    const manager = keep(await openConsole(browser, env.manager));
    await openDialog(manager.page, dialogId);
    const text = manager.page.locator('.msg-in .msg-text', { hasText: markup });
    assert.equal(await text.textContent(), markup);
    const reply = `${markup} <b>${unique('bold')}</b>`;
    await sendFromComposer(manager.page, reply);
    await visitor.theirs(reply).waitFor();
    assert.equal(await visitor.theirs(reply).textContent(), reply);

    const images = await visitor.root.evaluate((host) => [...host.shadowRoot.querySelectorAll('img')].filter((img) => !img.classList.contains('ava')).length);
    assert.equal(images, 0, 'no img element in the widget but the photo');
    assert.equal(await manager.page.locator('.conversation img').count(), 0, 'no img element in the console');
    // An injected handler would have run by the time a later message shows on both sides.
    const later = unique('and then');
    await visitor.write(later);
    await manager.page.locator('.msg-in .msg-text', { hasText: later }).waitFor();
    assert.deepEqual(visitor.alerts, [], 'no alert in the shop');
    assert.deepEqual(manager.alerts, [], 'no alert in the console');
  });
});

test('a shop stylesheet that hides every div and child of body does not hide the widget', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const visitor = keep(await openShop(`/hostile/${unique('hostile')}`));
    await visitor.button.waitFor();
    const box = await visitor.button.boundingBox();
    assert.ok(box && box.width >= 56 && box.height >= 56, `the button is 60 px: ${JSON.stringify(box)}`);
    assert.ok(box.x + box.width <= 1366 && box.y + box.height <= 768 && box.x > 1366 / 2, 'in the bottom right corner');
    const onTop = await visitor.page.evaluate(({ x, y }) => document.elementFromPoint(x, y)?.tagName, { x: box.x + box.width / 2, y: box.y + box.height / 2 });
    assert.equal(onTop, 'CHAT-WIDGET-ROOT', 'nothing covers the button');
    assert.equal(await visitor.page.locator('.content').isVisible(), false, 'the shop really hides its divs');

    await visitor.open();
    const windowBox = await visitor.window.boundingBox();
    assert.ok(windowBox.width >= 360 && windowBox.height >= 400, `the window is full size: ${JSON.stringify(windowBox)}`);
    const font = await visitor.input.evaluate((element) => getComputedStyle(element).fontSize);
    assert.equal(font, '14px', 'the shop’s font size does not reach in');
  });
});

test('under a strict Content-Security-Policy the widget is styled and works, with no violation', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const context = keep(await browser.newContext({ viewport: { width: 1366, height: 768 } }));
    await context.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (event) => window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`));
    });
    const visitor = await openShop(`/csp/${unique('strict')}`, { context });
    await visitor.open();
    const size = await visitor.button.evaluate((button) => [button.offsetWidth, button.offsetHeight]);
    assert.deepEqual(size, [60, 60], 'the button is styled');
    const accent = await visitor.button.evaluate((button) => getComputedStyle(button).backgroundColor);
    assert.equal(accent, 'rgb(47, 111, 78)', 'the colour of the settings');
    const text = unique('Written under a strict policy');
    await visitor.write(text);
    assert.deepEqual(await visitor.page.evaluate(() => window.__violations), []);
    assert.deepEqual(visitor.errors, []);
  });
});

test('a manager starts a dialog with a visitor on the site, and the widget shows it beside the button with an unread count', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const pagePath = `/t/${unique('browsing')}`;
    const visitor = keep(await openShop(pagePath));
    await visitor.button.waitFor();
    const contactId = await contactOn(shop.origin + pagePath);
    const first = unique('Hello! Can I help you choose a tea?');

    const manager = keep(await openConsole(browser, env.manager, { hash: '#/visitors' }));
    const row = manager.page.locator(`.visitor-row[data-contact-id="${contactId}"]`);
    if (await manager.page.locator('.visitors-page').waitFor({ timeout: 5_000 }).then(() => true, () => false)) {
      await row.locator('[data-action="start-dialog"]').click();
      await row.locator('textarea').fill(first);
      await row.locator('[data-action="send-first"]').click();
    } else {
      // The console has no visitors page yet: the API it would call.
      const sent = await api('POST', `/contacts/${contactId}/messages`, { client_message_id: unique('start'), text: first });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
    }

    // The manager's message, and any system message with it, is unread.
    await visitor.badge.filter({ hasText: /^[1-9]$/ }).waitFor();
    const unread = await visitor.badge.textContent();
    // Beside the closed button, the message itself.
    const preview = visitor.root.locator('.pv');
    await preview.locator('.pv-text', { hasText: first }).waitFor();
    await preview.evaluate((element) => Promise.all(element.getAnimations().map((animation) => animation.finished)));
    await screenshot(visitor.page, 'widget-preview-1366x768.png');
    // The count and the preview stay on the next page, until the window opens.
    await visitor.page.goto(`${shop.origin}${pagePath}/next`);
    await visitor.badge.filter({ hasText: new RegExp(`^${unread}$`) }).waitFor();
    await preview.locator('.pv-text', { hasText: first }).click();
    await visitor.input.waitFor();
    await visitor.theirs(first).waitFor();
    await visitor.badge.waitFor({ state: 'hidden' });
    assert.equal(await preview.isVisible(), false, 'the preview goes with the opening');
    await visitor.page.reload();
    await visitor.theirs(first).waitFor();
    assert.equal(await visitor.badge.isVisible(), false, 'no unread count after the window was opened');

    // Closed again, the next answer shows; dismissed, it stays dismissed, and the count stays.
    if (await visitor.window.isVisible()) await visitor.button.click();
    const second = unique('We also have samples, by the way');
    assert.equal((await api('POST', `/contacts/${contactId}/messages`, { client_message_id: unique('b'), text: second })).status, 201);
    await preview.locator('.pv-text', { hasText: second }).waitFor();
    await preview.locator('.pv-x').click();
    await preview.waitFor({ state: 'hidden' });
    await visitor.page.reload();
    await visitor.badge.filter({ hasText: /^1$/ }).waitFor();
    assert.equal(await preview.isVisible(), false, 'a dismissed preview stays dismissed');
  });
});

test('a reload keeps the conversation and catches up without doubles', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const pagePath = `/t/${unique('reload')}`;
    const visitor = keep(await openShop(pagePath));
    await visitor.open();
    const texts = [unique('First question'), unique('Second question')];
    for (const text of texts) await visitor.write(text);
    const contactId = await contactOn(shop.origin + pagePath);
    const answer = unique('An answer');
    assert.equal((await api('POST', `/contacts/${contactId}/messages`, { client_message_id: unique('a'), text: answer })).status, 201);
    await visitor.theirs(answer).waitFor();

    await visitor.page.reload();
    // Shown from what the browser kept, then caught up over a socket that
    // asked only for what came after it.
    await visitor.theirs(answer).waitFor();
    for (const text of texts) await visitor.mine(text).waitFor();
    await eventually(() => visitor.sockets.length === 2, { message: 'the socket of the reloaded page' });
    assert.match(visitor.sockets[1].url, /after_seq=([1-9]\d*)/, 'the reloaded page resumes after the last message it has');
    assert.match(visitor.sockets[1].url, /visitor_token=/, 'with the visitor token');

    // A message after the reload arrives; everything is there once.
    const later = unique('Anything else?');
    assert.equal((await api('POST', `/contacts/${contactId}/messages`, { client_message_id: unique('b'), text: later })).status, 201);
    await visitor.theirs(later).waitFor();
    const shown = await visitor.root.locator('.m.v .b, .m.a .b').allTextContents();
    assert.deepEqual(shown, [...texts, answer, later]);
  });
});

test('a reply the browser never got is fetched after a reload, though a later message of its own is kept', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const pagePath = `/t/${unique('gap')}`;
    const visitor = keep(await openShop(pagePath));
    await visitor.open();
    const question = unique('Is it in stock?');
    await visitor.write(question);
    const contactId = await contactOn(shop.origin + pagePath);
    const answer = unique('Yes, two left');
    assert.equal((await api('POST', `/contacts/${contactId}/messages`, { client_message_id: unique('a'), text: answer })).status, 201);
    await visitor.theirs(answer).waitFor();
    const thanks = unique('Thanks');
    await visitor.write(thanks);

    // As when the connection broke while the answer was on its way and the
    // ack of the visitor's next message came first: the browser holds 1 and 3.
    await visitor.page.evaluate((key) => {
      const kept = JSON.parse(localStorage.getItem(key));
      localStorage.setItem(key, JSON.stringify(kept.filter((m) => m.seq !== 2)));
      // It got seq 1 in a message frame, and 3 only in its ack.
      localStorage.setItem(key.replace(/messages$/, 'held'), '1');
    }, `chatwidget:${env.siteKey}:messages`);
    await visitor.page.reload();
    await eventually(() => visitor.sockets.length === 2, { message: 'the socket of the reloaded page' });
    assert.match(visitor.sockets[1].url, /after_seq=1(&|$)/, 'asks for what came after the last message before the gap');
    await visitor.theirs(answer).waitFor();
    const shown = await visitor.root.locator('.m.v .b, .m.a .b').allTextContents();
    assert.deepEqual(shown, [question, answer, thanks], 'in order, each once');
  });
});

test('the team\'s changes reach the widget only as a manager joining, and a reload asks after the newest line', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const pagePath = `/t/${unique('lines')}`;
    const visitor = keep(await openShop(pagePath));
    await visitor.open();
    const question = unique('Who is there?');
    await visitor.write(question);
    const dialogId = await dialogOf(await contactOn(shop.origin + pagePath));
    const me = (await api('GET', '/me')).body;
    // Seq 2 to 4: taken, closed, reopened; then the answer, seq 5.
    for (const [change, body] of [['assign', { manager_id: me.id }], ['close', {}], ['reopen', {}]]) {
      const changed = await api('POST', `/dialogs/${dialogId}/${change}`, body);
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
    }
    const answer = unique('Here I am');
    const sent = await api('POST', `/dialogs/${dialogId}/messages`, { client_message_id: unique('a'), text: answer });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    await visitor.theirs(answer).waitFor();
    const lines = () => visitor.root.locator('.m.s .b').allTextContents();
    assert.deepEqual(await lines(), [`${me.name} joined the conversation`], 'nothing of the close and reopen');

    await visitor.page.reload();
    await visitor.theirs(answer).waitFor();
    await eventually(() => visitor.sockets.length === 2, { message: 'the socket of the reloaded page' });
    assert.match(visitor.sockets[1].url, /after_seq=5(&|$)/, 'the lines it was never sent are no gap to fetch again');
    const later = unique('Anything else?');
    assert.equal((await api('POST', `/dialogs/${dialogId}/messages`, { client_message_id: unique('b'), text: later })).status, 201);
    await visitor.theirs(later).waitFor();
    const shown = await visitor.root.locator('.m .b').allTextContents();
    assert.deepEqual(shown, [question, `${me.name} joined the conversation`, answer, later], 'in order, each once');
  });
});

test('a visitor whose browser speaks Russian gets the widget in Russian, plurals and 24-hour times included, until the shop says English', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    keep(restoresSettings);
    await saveSettings({ language: 'en', language_from_browser: true });
    const context = keep(await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'ru-RU' }));
    const pagePath = `/t/${unique('russian')}`;
    const visitor = keep(await openShop(pagePath, { context }));
    await visitor.open();
    assert.equal(await visitor.input.getAttribute('placeholder'), 'Напишите сообщение…');
    assert.equal(await visitor.root.locator('.x').getAttribute('aria-label'), 'Закрыть чат');
    assert.equal(await visitor.root.locator('.w').getAttribute('lang'), 'ru');
    const question = unique('Есть ли доставка?');
    await visitor.write(question);
    assert.match(await visitor.root.locator('.m.v .t').first().textContent(), /^\d{2}:\d{2}$/, 'a 24-hour time');
    await visitor.button.click(); // closed: answers count as unread
    const dialogId = await dialogOf(await contactOn(shop.origin + pagePath));

    let sent = 0;
    for (const [count, words] of [[1, '1 непрочитанное сообщение'], [2, '2 непрочитанных сообщения'],
      [5, '5 непрочитанных сообщений'], [21, '21 непрочитанное сообщение']]) {
      for (; sent < count; sent++) {
        const reply = await api('POST', `/dialogs/${dialogId}/messages`, { client_message_id: unique('r'), text: `Ответ ${sent + 1}` });
        assert.equal(reply.status, 201, JSON.stringify(reply.body));
      }
      await eventually(async () => (await visitor.button.getAttribute('aria-label')) === `Открыть чат (${words})`,
        { message: `the button says ${words}` });
    }

    await visitor.open();
    const me = (await api('GET', '/me')).body;
    // The first reply took the dialog: back to new, and taken again.
    for (const managerId of [null, me.id]) {
      assert.equal((await api('POST', `/dialogs/${dialogId}/assign`, { manager_id: managerId })).status, 200);
    }
    const joined = visitor.root.locator('.m.s .b');
    await joined.filter({ hasText: `${me.name} присоединяется к разговору` }).waitFor();
    await screenshot(visitor.page, 'widget-ru-1366x768.png');

    // The shop's own language for everyone: the open widget takes it at once.
    await saveSettings({ language: 'en', language_from_browser: false });
    await eventually(async () => (await visitor.input.getAttribute('placeholder')) === 'Write a message…',
      { message: 'the widget in English' });
    await joined.filter({ hasText: `${me.name} joined the conversation` }).waitFor();
    assert.match(await visitor.root.locator('.m.v .t').first().textContent(), /^\d{1,2}:\d{2}\s?(AM|PM)$/, 'a 12-hour time');
  });
});

test('ChatWidget("reset") after a sign-out makes the browser a new visitor who sees nothing of the conversation', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const pagePath = `/t/${unique('reset')}`;
    const visitor = keep(await openShop(pagePath));
    await visitor.open();
    const secret = unique('My card ends in 4242');
    await visitor.write(secret);
    const before = await contactOn(shop.origin + pagePath);
    await eventually(() => visitor.sockets.length === 1, { message: 'the first socket' });

    await visitor.page.evaluate(() => window.ChatWidget('reset'));
    // A new socket without a token: the server issues a new visitor.
    await eventually(() => visitor.sockets.length === 2, { message: 'the socket after the reset' });
    assert.doesNotMatch(visitor.sockets[1].url, /visitor_token=/);
    await eventually(async () => (await visitor.root.locator('.m.v .b, .m.a .b').count()) === 0,
      { message: 'the conversation is gone from the widget' });
    await visitor.page.reload();
    await eventually(() => visitor.sockets.length === 3, { message: 'the socket of the reloaded page' });
    const later = unique('A new question');
    await visitor.write(later);
    await visitor.mine(later).waitFor();
    const shown = await visitor.root.locator('.m.v .b, .m.a .b').allTextContents();
    assert.deepEqual(shown, [later], 'only the new visitor\'s message');
    const after = await contactOn(shop.origin + pagePath);
    assert.notEqual(after, before, 'a new contact');
  });
});

test('a lost connection shows "Reconnecting"; what was written and saved meanwhile arrives once it is back', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    keep(restoresSettings);
    const context = keep(await browser.newContext({ viewport: { width: 1366, height: 768 } }));
    const page = await context.newPage();
    // The widget's timers (heartbeat, backoff) on a clock the test moves.
    await page.clock.install();
    const visitor = widgetOf(page);
    page.on('websocket', (socket) => visitor.sockets.push({ url: socket.url() }));
    const pagePath = `/t/${unique('offline-network')}`;
    await page.goto(shop.origin + pagePath);
    await visitor.open();
    const before = unique('Before the tunnel');
    await visitor.write(before);

    // Emulated offline keeps the socket half-open: only the heartbeat finds out.
    await context.setOffline(true);
    await page.clock.runFor(51_000);
    await visitor.bar.filter({ hasText: 'Reconnecting' }).waitFor();
    const during = unique('Written in the tunnel');
    await visitor.input.fill(during);
    await visitor.input.press('Enter');
    await visitor.root.locator('.m.pending .b', { hasText: during }).waitFor();
    const title = unique('Saved while you were away');
    await saveSettings({ online_title: title, offline_title: title });

    await context.setOffline(false);
    await eventually(async () => {
      await page.clock.runFor(1_000);
      return visitor.mine(during).isVisible();
    }, { message: 'the message written offline, stored' });
    await visitor.bar.waitFor({ state: 'hidden' });
    assert.ok(visitor.sockets.length >= 2, 'a new socket');
    await visitor.title.filter({ hasText: title }).waitFor();

    const dialogId = await dialogOf(await contactOn(shop.origin + pagePath));
    const stored = await api('GET', `/dialogs/${dialogId}/messages?after_seq=0`);
    const texts = stored.body.messages.filter((message) => message.author_kind === 'visitor').map((message) => message.text);
    assert.deepEqual(texts, [before, during], 'each message stored once, in order');
  });
});

test('a page of a site that is not allowed gets 403 for the config and no widget', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const configUrl = (pageUrl) => `${env.baseUrl}/widget/v1/config?site_key=${encodeURIComponent(env.siteKey)}&url=${encodeURIComponent(pageUrl)}`;
    const pageUrl = `${stranger.origin}/t/${unique('stranger')}`;
    // What the suite answers that site (a browser cannot read a refusal without CORS headers).
    const refused = await fetch(configUrl(pageUrl), { headers: { origin: stranger.origin } });
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).error.code, 'forbidden');

    const visitor = keep(await openShop(null));
    const widgetAsked = new Promise((resolve) => {
      const settled = (outcome) => (event) => {
        const request = event.request ? event.request() : event;
        if (request.url().includes('/widget/v1/config')) resolve({ outcome, status: event.status ? event.status() : null });
      };
      visitor.page.on('response', settled('answered'));
      visitor.page.on('requestfailed', settled('refused by CORS'));
    });
    await visitor.page.goto(pageUrl);
    const asked = await widgetAsked;
    assert.ok(asked.outcome === 'refused by CORS' || asked.status === 403, `the widget's config request: ${JSON.stringify(asked)}`);
    // The same request from the page itself, answered after the widget's own.
    const again = await visitor.page.evaluate(async (url) => {
      const reply = await fetch(url).catch(() => null);
      return reply ? reply.status : 'refused by CORS';
    }, configUrl(pageUrl));
    assert.ok(again === 403 || again === 'refused by CORS', `the config again: ${again}`);
    assert.equal(await visitor.root.count(), 0, 'no widget element');
    assert.deepEqual(visitor.sockets, [], 'no WebSocket');
  });
});

test('the widget open on the demo shop, at 1366x768 and 1920x1080', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    // Offline (no console is open), with the assistant's photo in the header.
    keep({ close: () => saveSettings({ offline_photo: null }) });
    await saveSettings({ offline_photo: (await avatarPng()).toString('base64') });
    const context = keep(await browser.newContext({ viewport: { width: 1366, height: 768 } }));
    const visitor = await openShop('/demo/product.html', { context });
    await visitor.open();
    const question = 'Hi! Is the Jasmine Silver Needle good for cold brewing?';
    await visitor.write(question);
    const contactId = await contactOn(`${shop.origin}/demo/product.html`);
    const answer = 'Yes! 6 g per litre, 8 hours in the fridge: sweet and very floral. Shall I add a 100 g pack to your order?';
    assert.equal((await api('POST', `/contacts/${contactId}/messages`, { client_message_id: unique('demo'), text: answer })).status, 201);
    await visitor.theirs(answer).waitFor();
    await visitor.write('Yes please, and a sample of Sencha.');
    await eventually(() => visitor.photo.evaluate((img) => img.complete && img.naturalWidth > 0), { message: 'the photo loaded' });
    for (const [width, height] of [[1366, 768], [1920, 1080]]) {
      await visitor.page.setViewportSize({ width, height });
      await eventually(async () => {
        const box = await visitor.window.boundingBox();
        return box && box.y >= 0 && box.y + box.height <= height && box.x + box.width <= width;
      }, { message: `the window fits at ${width}x${height}` });
      await screenshot(visitor.page, `widget-${width}x${height}.png`);
    }
    // A phone: the window takes the whole screen.
    await visitor.page.setViewportSize({ width: 390, height: 844 });
    await eventually(async () => {
      const box = await visitor.window.boundingBox();
      return box.x === 0 && box.y === 0 && box.width === 390 && box.height === 844;
    }, { message: 'the full-screen window on a phone' });
    await screenshot(visitor.page, 'widget-390x844.png');
    assert.deepEqual(visitor.errors, []);
  });
});

// ------------------------------------------------------------------ phones

/** Phones as Chromium emulates them: their screens, pixel ratios and touch. */
const PHONES = ['Pixel 7', 'iPhone 13', 'Galaxy S9+'];

/** Where an element of the widget is on the phone's screen, in the screen's own (CSS at scale 1) pixels. */
const onScreen = (locator) => locator.evaluate((element) => {
  const vv = window.visualViewport;
  const rect = element.getBoundingClientRect();
  const scale = vv.scale;
  return {
    left: (rect.left - vv.offsetLeft) * scale,
    top: (rect.top - vv.offsetTop) * scale,
    width: rect.width * scale,
    height: rect.height * scale,
    screenWidth: vv.width * scale,
    screenHeight: vv.height * scale,
    // A CSS transform on an ancestor scales what the rectangle reports too.
  };
});

const inside = (box) => box.width > 0 && box.height > 0 && box.left >= -0.5 && box.top >= -0.5
  && box.left + box.width <= box.screenWidth + 0.5 && box.top + box.height <= box.screenHeight + 0.5;

for (const phone of PHONES) {
  test(`on a ${phone}, the button is on the screen and the open widget fills it, on any shop page`, { timeout: TEST_TIMEOUT }, async () => {
    await withCleanup(async (keep) => {
      const { defaultBrowserType, ...device } = devices[phone];
      const context = keep(await browser.newContext(device));
      // A page with the viewport meta (the demo shop), one without (laid out 980 px wide and shown zoomed out),
      // and one wider than the screen.
      for (const pagePath of ['/demo/index.html', `/t/${unique('no-meta')}`, `/wide/${unique('wide')}`]) {
        const visitor = keep(await openShop(pagePath, { context }));
        const name = `${phone.replace(/\W+/g, '-').toLowerCase()}-${pagePath.split('/')[1]}`;
        await visitor.button.waitFor();
        if (pagePath.startsWith('/demo/')) {
          const widths = await visitor.page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
          assert.ok(widths[0] <= device.viewport.width, `${name}: the demo shop fits the screen: ${widths}`);
        }
        const button = await onScreen(visitor.button);
        assert.ok(inside(button), `${name}: the button on the screen: ${JSON.stringify(button)}`);
        assert.ok(Math.abs(button.width - 60) < 2, `${name}: the button at its own size: ${JSON.stringify(button)}`);
        await screenshot(visitor.page, `widget-${name}-closed.png`);

        await visitor.button.tap();
        await visitor.input.waitFor();
        await eventually(async () => {
          const win = await onScreen(visitor.window);
          return Math.abs(win.left) < 1 && Math.abs(win.top) < 1
            && Math.abs(win.width - win.screenWidth) < 1 && Math.abs(win.height - win.screenHeight) < 1;
        }, { message: `${name}: the open window fills the screen` });
        for (const part of [visitor.input, visitor.root.locator('.x'), visitor.root.locator('.send')]) {
          const box = await onScreen(part);
          assert.ok(inside(box), `${name}: ${await part.evaluate((e) => e.className || e.tagName)} on the screen: ${JSON.stringify(box)}`);
        }
        assert.equal(await visitor.button.isVisible(), false, `${name}: the window's own close button stands for it`);
        await screenshot(visitor.page, `widget-${name}-open.png`);

        // The keyboard takes the lower part of the screen: the message box stays above it.
        const { width, height } = device.viewport;
        await visitor.page.setViewportSize({ width, height: Math.round(height * 0.55) });
        await eventually(async () => inside(await onScreen(visitor.input)), { message: `${name}: the message box above the keyboard` });
        assert.ok(inside(await onScreen(visitor.root.locator('.x'))), `${name}: the close button with it`);
        assert.notEqual(await visitor.root.locator('.head').evaluate((head) => getComputedStyle(head).backgroundColor),
          'rgba(0, 0, 0, 0)', `${name}: still in the shop's colour`);
        await screenshot(visitor.page, `widget-${name}-keyboard.png`);
        await visitor.page.setViewportSize({ width, height });
        await visitor.root.locator('.x').tap();
        await visitor.button.waitFor();
        assert.ok(inside(await onScreen(visitor.button)), `${name}: the button back on the screen`);
        assert.deepEqual(visitor.errors, []);
        await visitor.page.close();
      }
    });
  });
}
