// Helpers for the console's browser tests: the environment the suite is
// started with, Chromium, signing in through the console, a visitor driven
// over the visitor WebSocket, API calls from a signed-in page, screenshots.

import { chromium } from 'playwright-core';
import { createHmac, randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set: these tests run against a running suite (see console.test.mjs)`);
  return value;
}

export const env = {
  baseUrl: required('BASE_URL').replace(/\/$/, ''),
  siteKey: required('SITE_KEY'),
  owner: { email: required('OWNER_EMAIL'), password: required('OWNER_PASSWORD') },
  manager: { email: required('MANAGER_EMAIL'), password: required('MANAGER_PASSWORD') },
  idleSecs: Number(process.env.IDLE_SECS || 6),
  screenshotDir: process.env.SCREENSHOT_DIR || null,
  // The fake Telegram the suite's bridge talks to (crates/fakes).
  telegramUrl: (process.env.TELEGRAM_URL || '').replace(/\/$/, ''),
  // The notification service's inbound webhook (Postmark's format), and how
  // the dialogs' reply addresses are made (services/notification/src/inbound/address.rs).
  inbound: {
    webhookUrl: process.env.INBOUND_WEBHOOK_URL || '',
    token: process.env.INBOUND_WEBHOOK_TOKEN || '',
    domain: process.env.INBOUND_DOMAIN || '',
    secret: process.env.INBOUND_SECRET || '',
  },
  // The mail catchers (MailDev): the deployment's SMTP server, and one
  // playing a shop's own server, which takes mail only from a signed-in user.
  mail: {
    webUrl: (process.env.MAIL_WEB_URL || '').replace(/\/$/, ''),
    shopWebUrl: (process.env.SHOP_MAIL_WEB_URL || '').replace(/\/$/, ''),
    shopSmtpPort: Number(process.env.SHOP_SMTP_PORT || 0),
    shopSmtpUser: process.env.SHOP_SMTP_USER || '',
    shopSmtpPassword: process.env.SHOP_SMTP_PASSWORD || '',
  },
};

/** The e-mails a catcher (its web address) holds for `to`, oldest first. */
export async function caughtMails(webUrl, to) {
  const response = await fetch(`${webUrl}/email`);
  assert.equal(response.status, 200, 'the mail catcher answers');
  const mails = await response.json();
  return mails.filter((mail) => mail.to.some((recipient) => recipient.address.toLowerCase() === to.toLowerCase()));
}

/** A dialog's reply address: `reply+<id hex><first 10 bytes of its HMAC>@<domain>`. */
export function replyAddress(dialogId) {
  const id = Buffer.from(dialogId.replaceAll('-', ''), 'hex');
  const tag = createHmac('sha256', env.inbound.secret).update(id).digest().subarray(0, 10).toString('hex');
  return `reply+${id.toString('hex')}${tag}@${env.inbound.domain}`;
}

/** An answer by e-mail, as a mail host hands it to the inbound webhook; what became of it (`posted`, `held`, ...). */
export async function emailAnswer({ from, to, messageId, text }) {
  const response = await fetch(env.inbound.webhookUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: 'Basic ' + Buffer.from(`inbound:${env.inbound.token}`).toString('base64'),
    },
    body: JSON.stringify({ FromFull: { Email: from }, ToFull: [{ Email: to }], OriginalRecipient: to, MessageID: messageId, TextBody: text }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).status;
}

export const consoleUrl = (hash = '') => `${env.baseUrl}/console/${hash}`;

export function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export const unique = (prefix) => `${prefix}-${randomUUID().slice(0, 8)}`;

// Signed-in cookies by e-mail, so that tests do not sign in over and over
// (the suite rate-limits sign-ins, and a wait for that would let the other
// sessions of a test run into the short inactivity limit).
const savedSessions = new Map();

/**
 * A new browser context with the console open and signed in as account: with
 * the session an earlier test saved if it is still alive, else through the
 * login form. freshLogin: always a new session (a second "device").
 * Answers { context, page, alerts }; alerts collects every JavaScript dialog
 * (alert/confirm/prompt) the page tried to open.
 */
export async function openConsole(browser, account, { viewport = { width: 1366, height: 768 }, hash = '', freshLogin = false, locale } = {}) {
  const saved = freshLogin ? undefined : savedSessions.get(account.email);
  const context = await browser.newContext({ viewport, storageState: saved, ...(locale ? { locale } : {}) });
  const page = await context.newPage();
  const alerts = [];
  page.on('dialog', (dialog) => {
    alerts.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (error) => console.error(`[console page error] ${error.message}`));
  await page.goto(consoleUrl(hash));
  const loginForm = page.locator('#login-email');
  await page.locator('.workspace').or(loginForm).first().waitFor();
  if (await loginForm.count()) {
    await signIn(page, account);
    if (!freshLogin) savedSessions.set(account.email, await context.storageState());
  } else {
    await page.locator('.connection-status.is-online').waitFor();
  }
  return { context, page, alerts };
}

/**
 * Signs in through the login form. The suite limits sign-in attempts: when
 * the form says to wait (429 with Retry-After), this waits and tries again.
 */
export async function signIn(page, account, { attempts = 6 } = {}) {
  await page.locator('#login-email').fill(account.email);
  await page.locator('#login-password').fill(account.password);
  for (let attempt = 1; ; attempt++) {
    await page.locator('.auth-card button[type=submit]').click();
    const rateLimited = page.locator('.auth-card .form-error', { hasText: 'Too many' });
    const refused = page.locator('.auth-card .form-error', { hasText: 'Wrong e-mail or password' });
    await page.locator('.workspace').or(rateLimited).or(refused).first().waitFor();
    if (await page.locator('.workspace').count()) break;
    if (await refused.count()) throw new Error(`the suite refused the sign-in of ${account.email}: check the *_EMAIL and *_PASSWORD variables`);
    if (attempt >= attempts) throw new Error(`still rate-limited after ${attempts} sign-in attempts`);
    const seconds = Number(/(\d+) s/.exec(await rateLimited.textContent())?.[1] ?? 5);
    await page.waitForTimeout((seconds + 1) * 1000);
  }
  await page.locator('.connection-status.is-online').waitFor();
}

/** Calls the REST API from a signed-in page (cookie + CSRF token), like the console does. */
export async function apiFromPage(page, method, apiPath, body) {
  return page.evaluate(
    async ({ method, apiPath, body }) => {
      const me = await fetch('/api/v1/me').then((response) => response.json());
      const response = await fetch('/api/v1' + apiPath, {
        method,
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf_token },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    { method, apiPath, body },
  );
}

export async function whoAmI(page) {
  return page.evaluate(() => fetch('/api/v1/me').then((response) => response.json()));
}

/** Clicks a category of the left panel: mine | all | new. */
export async function showCategory(page, category, status = 'open') {
  await page.locator(`.segment[data-status="${status}"]`).click();
  await page.locator(`.nav-item[data-category="${category}"]`).click();
}

export const dialogItem = (page, dialogId) => page.locator(`.dialog-item[data-dialog-id="${dialogId}"]`);

export async function openDialog(page, dialogId) {
  await page.goto(consoleUrl(`#/dialogs/${dialogId}`));
  await page.locator(`.conversation[data-dialog-id="${dialogId}"] .thread`).waitFor();
  await page.locator('.thread-top .loading').waitFor({ state: 'detached' });
}

/** Sends text from the composer of the open dialog with Enter. */
export async function sendFromComposer(page, text) {
  const input = page.locator('.conversation .composer-input');
  await input.fill(text);
  await input.press('Enter');
}

/** Waits until fn() answers something truthy; answers it. */
export async function eventually(fn, { timeout = 15_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${message}`);
}

export async function screenshot(page, name) {
  if (!env.screenshotDir) return;
  mkdirSync(env.screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(env.screenshotDir, name) });
}

/**
 * A visitor of the shop, on the visitor WebSocket, driven from a page of the
 * suite's origin in a context of its own (no manager cookie). It connects
 * without a token, as a browser does the first time, and keeps the
 * visitor_token the server issues in hello; more tabs of the same browser
 * connect with it. Frames of every tab are kept, each marked with its tab.
 */
export class Visitor {
  static async connect(browser) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(consoleUrl());
    await page.evaluate(() => {
      window.__visitor = { sockets: [], frames: [] };
    });
    const visitor = new Visitor(context, page);
    await visitor.openTab();
    const hello = await visitor.waitForFrame((frame) => frame.type === 'hello', 'the visitor hello');
    visitor.contactId = hello.contact_id;
    visitor.token = hello.visitor_token;
    return visitor;
  }

  constructor(context, page) {
    this.context = context;
    this.page = page;
    this.contactId = null;
    this.token = null;
    this.pagesSeen = 0;
    this.startedAt = null;
  }

  /** Opens one more socket (a tab), with the visitor's token once there is one; answers its number. */
  openTab() {
    const token = this.token ? `&visitor_token=${encodeURIComponent(this.token)}` : '';
    const url = `${env.baseUrl.replace(/^http/, 'ws')}/ws/visitor?site_key=${encodeURIComponent(env.siteKey)}${token}`;
    return this.page.evaluate(
      (socketUrl) =>
        new Promise((resolve, reject) => {
          const socket = new WebSocket(socketUrl);
          const tab = window.__visitor.sockets.push(socket) - 1;
          socket.onmessage = (event) => window.__visitor.frames.push({ ...JSON.parse(event.data), tab });
          socket.onopen = () => resolve(tab);
          socket.onerror = () => reject(new Error('the visitor socket did not open'));
        }),
      url,
    );
  }

  frames() {
    return this.page.evaluate(() => window.__visitor.frames);
  }

  async waitForFrame(predicate, what = 'a frame', timeout = 15_000) {
    return eventually(async () => (await this.frames()).find(predicate), { timeout, message: what });
  }

  sendFrame(frame, tab = 0) {
    return this.page.evaluate(({ text, tab }) => window.__visitor.sockets[tab].send(text), { text: JSON.stringify(frame), tab });
  }

  /** Sends a message; answers the stored message from the ack (it has dialog_id). */
  async send(text) {
    const clientMessageId = randomUUID();
    await this.sendFrame({ type: 'send', client_message_id: clientMessageId, text });
    const ack = await this.waitForFrame((frame) => frame.type === 'ack' && frame.client_message_id === clientMessageId, `the ack of "${text}"`)
      .catch(async (error) => {
        const frames = (await this.frames()).filter((frame) => frame.type !== 'ack');
        throw new Error(`${error.message}; the visitor's other frames: ${JSON.stringify(frames).slice(0, 1500)}`);
      });
    return ack.message;
  }

  /** The widget's "I am on this page" frame (the visitors list shows it). */
  async visit(url, title, { startedAt = this.startedAt ?? new Date(), pagesSeen = this.pagesSeen + 1, tab = 0 } = {}) {
    this.pagesSeen = pagesSeen;
    this.startedAt ??= startedAt;
    await this.sendFrame({ type: 'page', url, title, referrer: '', visit_started_at: startedAt.toISOString(), pages_seen: pagesSeen, page_view_id: randomUUID() }, tab);
  }

  /** Who the visitor is (name, email, phone, user_hash); answers the identified frame. */
  async identify(details) {
    const before = (await this.frames()).length;
    await this.sendFrame({ type: 'identify', ...details });
    return eventually(async () => (await this.frames()).slice(before).find((frame) => frame.type === 'identified' || frame.type === 'error'), { message: 'the answer to identify' });
  }

  /** Waits for a message frame with this text; answers the message. */
  async receives(text) {
    const frame = await this.waitForFrame((candidate) => candidate.type === 'message' && candidate.message?.text === text, `the visitor receiving "${text}"`);
    return frame.message;
  }

  /** Closes a tab's socket, as closing the tab would. */
  leave(tab = 0) {
    return this.page.evaluate((tab) => window.__visitor.sockets[tab].close(1000), tab);
  }

  async close() {
    await this.context.close();
  }
}

/** Opens what a test needs and closes all of it afterwards, even on failure. */
export async function withCleanup(body) {
  const opened = [];
  const keep = (thing) => {
    opened.push(thing);
    return thing;
  };
  try {
    await body(keep);
  } finally {
    for (const thing of opened.reverse()) await (thing.context ?? thing).close().catch(() => {});
  }
}
