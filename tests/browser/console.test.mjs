// Browser tests of the managers' console against a running suite.
//
// Started by the suite's Rust test (or by hand) with:
//   BASE_URL, SITE_KEY, OWNER_EMAIL, OWNER_PASSWORD, MANAGER_EMAIL,
//   MANAGER_PASSWORD, IDLE_SECS (the inactivity limit the server runs with),
//   SCREENSHOT_DIR (optional: screenshots are saved there).
// Each test takes a fresh visitor, so tests do not depend on each other. The
// inactivity test runs last: it needs a manager nobody else is using.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  env, launchBrowser, openConsole, consoleUrl, Visitor, unique, whoAmI, showCategory,
  dialogItem, openDialog, sendFromComposer, eventually, screenshot, signIn,
  withCleanup, apiFromPage, replyAddress, emailAnswer,
} from './support.mjs';

const TEST_TIMEOUT = 90_000;
let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('signing in: wrong password is refused with a clear message, the right one opens the inbox', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const context = keep(await browser.newContext({ viewport: { width: 1366, height: 768 } }));
    const page = await context.newPage();
    await page.goto(consoleUrl());
    await page.locator('#login-email').fill(env.owner.email);
    await page.locator('#login-password').fill(env.owner.password + '-wrong');
    await page.locator('.auth-card button[type=submit]').click();
    await page.locator('.auth-card .form-error', { hasText: 'Wrong e-mail or password' }).waitFor();

    await signIn(page, env.owner);
    const me = await whoAmI(page);
    await page.locator('.profile-name', { hasText: me.name }).waitFor();
    await page.locator('.nav-item[data-category="mine"]').waitFor();
  });
});

test('Forgot password? takes an address and answers alike for any; a spent or made-up link says so', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const context = keep(await browser.newContext({ viewport: { width: 1366, height: 768 } }));
    const page = await context.newPage();
    await page.goto(consoleUrl());
    await page.locator('.auth-card [data-action="forgot"]').click();
    await page.locator('.auth-card h1', { hasText: 'Forgot your password?' }).waitFor();
    await page.locator('.auth-card input[name="email"]').fill(`${unique('nobody')}@example.com`);
    await page.locator('.auth-card button[type=submit]').click();
    await page.locator('.auth-card h1', { hasText: 'Check your e-mail' }).waitFor();
    await screenshot(page, 'forgot-password-1366x768.png');

    await page.goto(consoleUrl(`#/reset/${'0'.repeat(64)}`));
    await page.locator('.auth-card h1', { hasText: 'Set a new password' }).waitFor();
    await page.locator('.auth-card input[name="password"]').fill('a brand new password');
    await page.locator('.auth-card input[name="repeat"]').fill('a brand new password');
    await page.locator('.auth-card button[type=submit]').click();
    await page.locator('.auth-card .form-error', { hasText: 'no longer valid' }).waitFor();
    await page.locator('.auth-card .form-error a[href="#/forgot"]').waitFor();
  });
});

test('a visitor message arrives live, and the reply reaches the visitor', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    await showCategory(page, 'new');
    const visitor = keep(await Visitor.connect(browser));
    const question = unique('Where is my order?');
    const message = await visitor.send(question);

    const item = dialogItem(page, message.dialog_id);
    await item.locator('.dialog-item-preview', { hasText: question }).waitFor();
    await item.locator('.unread-badge').waitFor();
    await item.click();
    await page.locator('.msg-in .msg-text', { hasText: question }).waitFor();

    const reply = unique('It ships today');
    await sendFromComposer(page, reply);
    await page.locator('.msg-out:not(.is-pending) .msg-text', { hasText: reply }).waitFor();
    const received = await visitor.receives(reply);
    assert.equal(received.author_kind, 'manager');
    assert.equal(await page.locator('.composer-input').inputValue(), '', 'the composer is emptied after sending');
  });
});

test('the tab’s title and icon count the dialogs waiting for me', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    const waiting = async () => Number((await page.title()).match(/^\((\d+)\)/)?.[1] ?? 0);
    await page.waitForFunction(() => document.title.endsWith('Inbox · Consultant'));
    const before = await waiting();
    const visitor = keep(await Visitor.connect(browser));
    await visitor.send(unique('Anyone there?'));
    await eventually(async () => (await waiting()) === before + 1, { message: `the title counting ${before + 1}` });
    const icon = await page.locator('link[rel="icon"]').getAttribute('href');
    assert.match(icon, /%23ef4444/, 'a red badge on the icon');
    assert.match(await page.title(), /^\(\d+\) Inbox · Consultant$/);
  });
});

test('a note stays among managers: the visitor gets the later reply but never the note', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    const visitor = keep(await Visitor.connect(browser));
    const message = await visitor.send(unique('Can I pay by invoice?'));
    await openDialog(page, message.dialog_id);

    const note = unique('Note: check with accounting');
    await page.locator('.composer-tab[data-mode="note"]').click();
    await sendFromComposer(page, note);
    const noteElement = page.locator('.msg-note[data-note-id] .msg-text', { hasText: note });
    await noteElement.waitFor();
    await page.locator('.msg-note[data-note-id] .note-label').first().waitFor();

    await page.locator('.composer-tab[data-mode="reply"]').click();
    const reply = unique('Yes, invoices are fine');
    await sendFromComposer(page, reply);
    // The reply was sent after the note: once it has arrived, the note would have too.
    await visitor.receives(reply);
    const frames = JSON.stringify(await visitor.frames());
    assert.ok(!frames.includes(note), 'the visitor socket never carries the note');
  });
});

test('assigning to the other manager moves the dialog in both managers’ lists', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const owner = keep(await openConsole(browser, env.owner));
    const manager = keep(await openConsole(browser, env.manager));
    const managerId = (await whoAmI(manager.page)).id;
    await showCategory(owner.page, 'new');
    await showCategory(manager.page, 'mine');

    const visitor = keep(await Visitor.connect(browser));
    const message = await visitor.send(unique('Do you have this in blue?'));
    await dialogItem(owner.page, message.dialog_id).click();
    await owner.page.locator('.conv-assignee', { hasText: 'Unassigned' }).waitFor();
    assert.equal(await dialogItem(manager.page, message.dialog_id).count(), 0, 'not in the other manager’s Mine before');

    await owner.page.locator('.conv-actions [data-action="assign"]').click();
    await owner.page.locator(`.popover .menu-item[data-manager-id="${managerId}"]`).click();

    await dialogItem(manager.page, message.dialog_id).waitFor();
    await dialogItem(owner.page, message.dialog_id).waitFor({ state: 'detached' });
    await owner.page.locator(`.conv-assignee[data-manager-id="${managerId}"]`).waitFor();
    // The manager's count of Mine follows.
    await eventually(async () => Number(await manager.page.locator('.nav-item[data-category="mine"] .nav-count').textContent()) >= 1, { message: 'the Mine count' });
  });
});

test('closing and reopening a dialog moves it between Open and Closed', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    await showCategory(page, 'all');
    const visitor = keep(await Visitor.connect(browser));
    const message = await visitor.send(unique('Thanks, that is all'));
    await dialogItem(page, message.dialog_id).click();

    await page.locator('.conv-actions [data-action="close"]').click();
    await page.locator('.conv-subtitle .chip[data-status="closed"]').waitFor();
    await page.locator('.closed-notice').waitFor();
    await dialogItem(page, message.dialog_id).waitFor({ state: 'detached' });

    await page.locator('.segment[data-status="closed"]').click();
    await dialogItem(page, message.dialog_id).waitFor();

    await page.locator('.conv-actions [data-action="reopen"]').click();
    await page.locator('.conv-subtitle .chip[data-status="open"]').waitFor();
    await dialogItem(page, message.dialog_id).waitFor({ state: 'detached' });
    await page.locator('.segment[data-status="open"]').click();
    await dialogItem(page, message.dialog_id).waitFor();
  });
});

test('a reply template made in Settings is put into the reply, edited and sent', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    const name = unique('Delivery');
    const text = `We deliver in 2-3 days (${name}).`;
    await page.goto(consoleUrl('#/settings/templates'));
    await page.locator('[data-action="new-template"]').click();
    await page.locator('dialog.modal input[name="name"]').fill(name);
    await page.locator('dialog.modal textarea[name="text"]').fill(text);
    await page.locator('dialog.modal button[type="submit"]').click();
    await page.locator('.template-card-name', { hasText: name }).waitFor();

    const visitor = keep(await Visitor.connect(browser));
    const message = await visitor.send(unique('How fast is delivery?'));
    await openDialog(page, message.dialog_id);
    await page.locator('.composer [data-action="templates"]').click();
    const filter = page.locator('.templates-popover .popover-search');
    await filter.fill(name.slice(-8));
    const options = page.locator('.templates-popover .template-option');
    await eventually(async () => (await options.count()) === 1, { message: 'the filter leaving one template' });
    await options.first().click();

    const input = page.locator('.conversation .composer-input');
    assert.equal(await input.inputValue(), text);
    await input.press('End');
    await input.pressSequentially(' Thank you!');
    await input.press('Enter');
    await visitor.receives(`${text} Thank you!`);
  });
});

test('search by part of an e-mail, then write the first message from the contact', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    const visitor = keep(await Visitor.connect(browser));
    const mailbox = unique('buyer').toLowerCase();
    const email = `${mailbox}@example.com`;
    // A visitor who says who they are becomes a contact (one who only
    // browses is none), without a dialog yet.
    await visitor.sendFrame({ type: 'identify', email });
    await visitor.waitForFrame((frame) => frame.type === 'identified', 'the identification');

    await page.locator('.search-input').fill(mailbox.slice(2));
    await page.locator('.search-input').press('Enter');
    await page.locator(`.contact-item[data-contact-id="${visitor.contactId}"]`).click();
    await page.locator(`.contact-view[data-contact-id="${visitor.contactId}"]`).waitFor();
    await page.locator('.contact-panel [data-field="email"]', { hasText: email }).waitFor();

    await page.locator('[data-action="write"]').click();
    const first = unique('Hello! Your order is ready');
    await page.locator('.write-form textarea').fill(first);
    await page.locator('.write-form textarea').press('Enter');
    await page.waitForURL(/#\/dialogs\//);
    await page.locator('.msg-out .msg-text', { hasText: first }).waitFor();
    await visitor.receives(first);
  });
});

test('an e-mail answer from a stranger waits above the composer until a manager posts it', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const visitor = keep(await Visitor.connect(browser));
    const message = await visitor.send(unique('Where is my parcel?'));
    const { page } = keep(await openConsole(browser, env.owner));
    await openDialog(page, message.dialog_id);
    const text = unique('I am her husband: send it to the office instead, please.');
    const answer = {
      from: 'husband@elsewhere.example',
      to: replyAddress(message.dialog_id),
      messageId: unique('held'),
      text: `${text}\n\nOn Sun, 6 Dec 2026, Shop wrote:\n> Where is my parcel?`,
    };
    // Taken once the notification service has heard of the dialog (sent again, it is held once).
    await eventually(async () => (await emailAnswer(answer)) === 'held', { message: 'the answer held' });
    const held = page.locator('.held-answer', { hasText: text });
    await held.waitFor();
    assert.match(await held.locator('.held-from').innerText(), /husband@elsewhere\.example/);
    assert.equal(await held.locator('.held-text').innerText(), text, 'only the new words, the quote cut');
    await page.locator('.msg-note', { hasText: 'husband@elsewhere.example' }).waitFor();
    assert.equal(await page.locator('.msg-in .msg-text', { hasText: text }).count(), 0, 'not the contact’s message yet');
    await screenshot(page, 'held-answer-1366x768.png');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await screenshot(page, 'held-answer-1920x1080.png');

    await held.getByRole('button', { name: 'Post as the contact’s message' }).click();
    await page.locator('.msg-in .msg-text', { hasText: text }).waitFor();
    await held.waitFor({ state: 'detached' });
    assert.equal(await page.locator('.held-answers').isHidden(), true);
  });
});

test('an edited contact changes in the other manager’s browser', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const owner = keep(await openConsole(browser, env.owner));
    const manager = keep(await openConsole(browser, env.manager));
    const visitor = keep(await Visitor.connect(browser));
    const message = await visitor.send(unique('Please call me back'));
    await openDialog(owner.page, message.dialog_id);
    await openDialog(manager.page, message.dialog_id);

    const name = unique('Maria Lopez');
    const phone = '+34 600 123 456';
    await owner.page.locator('.conv-actions [data-action="edit-contact"]').click();
    const form = owner.page.locator('dialog.modal');
    await form.locator('input[name="email"]').fill('not-an-e-mail');
    await form.locator('button[type="submit"]').click();
    await form.locator('.field.has-error .field-error').first().waitFor();

    await form.locator('input[name="email"]').fill('');
    await form.locator('input[name="name"]').fill(name);
    await form.locator('input[name="phone"]').fill(phone);
    await form.locator('button[type="submit"]').click();
    await form.waitFor({ state: 'detached' });

    await manager.page.locator('.conv-name', { hasText: name }).waitFor();
    await manager.page.locator('.contact-panel .contact-card-name', { hasText: name }).waitFor();
    await manager.page.locator('.contact-panel [data-field="phone"]', { hasText: phone }).waitFor();
  });
});

test('markup from a visitor is shown as text and never runs', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const owner = keep(await openConsole(browser, env.owner));
    const { page, alerts } = owner;
    await showCategory(page, 'new');
    const visitor = keep(await Visitor.connect(browser));
    const markup = '<img src=x onerror=alert(1)>';
    const message = await visitor.send(markup);

    const item = dialogItem(page, message.dialog_id);
    await item.waitFor();
    assert.equal(await item.locator('.dialog-item-preview').textContent(), markup);
    assert.equal(await item.locator('img').count(), 0);
    await item.click();
    const text = page.locator(`.msg[data-seq="${message.seq}"] .msg-text`);
    await text.waitFor();
    assert.equal(await text.textContent(), markup);
    assert.equal(await page.locator('.conversation img').count(), 0, 'no img element in the conversation');
    // An injected handler would have run by the time a later message shows.
    const later = unique('and then');
    await visitor.send(later);
    await page.locator('.msg-text', { hasText: later }).waitFor();
    assert.deepEqual(alerts, [], 'no alert fired');
    assert.equal(await page.evaluate(() => document.querySelectorAll('#app img').length), 0);
  });
});

test('junk dialogs are ticked and marked as spam at once, and their visitors unblocked in Settings', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    await showCategory(page, 'new');
    const junk = [];
    for (const text of [unique('BUY CHEAP WATCHES'), unique('CASINO BONUS')]) {
      const visitor = keep(await Visitor.connect(browser));
      junk.push({ visitor, message: await visitor.send(text) });
    }
    for (const { message } of junk) await dialogItem(page, message.dialog_id).locator('.dialog-select').click();
    await page.locator('.bulk-count', { hasText: '2 selected' }).waitFor();
    await page.locator('[data-action="bulk-spam"]').click();
    await page.locator('dialog.modal button', { hasText: 'Mark as spam' }).click();
    for (const { message } of junk) await dialogItem(page, message.dialog_id).waitFor({ state: 'detached' });
    assert.equal(await page.locator('.bulk-bar').isVisible(), false, 'the selection is done');

    // Their visitors are blocked: listed in Settings, and one is let back.
    await page.goto(consoleUrl('#/settings/blocks'));
    const cards = page.locator('.block-card', { hasText: 'Spam' });
    await eventually(async () => (await cards.count()) >= 2, { message: 'both blocked visitors listed' });
    const before = await page.locator('.block-card').count();
    await page.locator('.block-card [data-action="unblock"]').first().click();
    await page.locator('dialog.modal button', { hasText: 'Unblock' }).click();
    await eventually(async () => (await page.locator('.block-card').count()) === before - 1, { message: 'one block lifted' });
  });
});

test('Settings → Notifications: e-mail is switched off and on, and the owner signs the shop’s e-mails', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    await page.goto(consoleUrl('#/settings/notifications'));
    const email = page.locator('.settings-content input[name="email"]');
    const emailSwitch = page.locator('.settings-content label.switch-row', { has: page.locator('input[name="email"]') });
    await email.waitFor();
    assert.equal(await email.isChecked(), true, 'e-mail is on until turned off');
    await emailSwitch.click();
    await eventually(async () => (await apiFromPage(page, 'GET', '/me/notifications')).body.email === false, { message: 'e-mail saved as off' });
    await page.reload();
    await email.waitFor();
    assert.equal(await email.isChecked(), false, 'still off after a reload');
    await emailSwitch.click();
    await eventually(async () => (await apiFromPage(page, 'GET', '/me/notifications')).body.email === true, { message: 'e-mail saved as on' });

    const replyTo = page.locator('.settings-content input[name="reply_to"]');
    await replyTo.fill('not an address');
    await page.locator('.settings-content form button[type="submit"]').click();
    await page.locator('.settings-content .field-error', { hasText: 'e-mail address' }).waitFor();
    await replyTo.fill('help@shop.example');
    await page.locator('.settings-content input[name="sender_name"]').fill('Shop <b>support</b>');
    await page.locator('.settings-content input[name="shop_url"]').fill('https://shop.example/');
    await page.locator('.settings-content form button[type="submit"]').click();
    await eventually(async () => (await apiFromPage(page, 'GET', '/account/mail')).body.reply_to === 'help@shop.example', { message: 'the signature saved' });
    const saved = (await apiFromPage(page, 'GET', '/account/mail')).body;
    assert.deepEqual(saved, { sender_name: 'Shop <b>support</b>', reply_to: 'help@shop.example', shop_url: 'https://shop.example/' });
    await eventually(async () => (await page.locator('.settings-content .field-error', { hasText: 'e-mail address' }).count()) === 0, { message: 'the old error cleared' });
    for (const [width, height] of [[1366, 768], [1920, 1080]]) {
      await page.setViewportSize({ width, height });
      await page.locator('.settings-content').evaluate((element) => { element.scrollTop = 0; });
      await screenshot(page, `settings-notifications-${width}x${height}.png`);
    }
    await apiFromPage(page, 'PATCH', '/account/mail', { sender_name: '', reply_to: '', shop_url: '' });
  });
});

test('a browser push shows its notification, and clicking it opens the dialog in the console', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const visitor = keep(await Visitor.connect(browser));
    const message = await visitor.send(unique('Pushed to you'));
    const { page, context } = keep(await openConsole(browser, env.owner));
    await context.grantPermissions(['notifications'], { origin: env.baseUrl });
    // The console's worker, registered as "Turn on" registers it, and active.
    await page.evaluate(async () => {
      await navigator.serviceWorker.register('/console/sw.js', { scope: '/console/' });
      const registration = await navigator.serviceWorker.ready;
      if (registration.active.state !== 'activated') {
        await new Promise((resolve) => registration.active.addEventListener('statechange', (e) => e.target.state === 'activated' && resolve()));
      }
    });
    const cdp = await context.newCDPSession(page);
    const registrations = new Map();
    cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => {
      for (const registration of event.registrations) registrations.set(registration.scopeURL, registration.registrationId);
    });
    await cdp.send('ServiceWorker.enable');
    const scope = `${env.baseUrl}/console/`;
    await eventually(async () => registrations.has(scope), { message: 'the worker registered' });
    // A push as the push service delivers it (already decrypted by the
    // browser). A worker that was still starting may miss the first: the
    // push is delivered again until it shows (the tag keeps it one).
    const url = `${env.baseUrl}/console/#/dialogs/${message.dialog_id}`;
    const title = unique('A visitor wrote to the shop');
    const shown = async () => page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body })));
    await eventually(async () => {
      if ((await shown()).some((n) => n.title === title && n.body === 'Pushed to you')) return true;
      await cdp.send('ServiceWorker.deliverPushMessage', {
        origin: env.baseUrl,
        registrationId: registrations.get(scope),
        data: JSON.stringify({ title, body: 'Pushed to you', url, tag: `dialog-${message.dialog_id}` }),
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return (await shown()).some((n) => n.title === title && n.body === 'Pushed to you');
    }, { timeout: 45_000, interval: 500, message: 'the notification shown' });
    // The click, as the browser hands it to the worker: the console opens the dialog.
    const worker = context.serviceWorkers().find((w) => w.url().endsWith('/console/sw.js')) || (await context.waitForEvent('serviceworker'));
    await worker.evaluate(async (wanted) => {
      const [notification] = (await self.registration.getNotifications()).filter((n) => n.title === wanted);
      self.dispatchEvent(new NotificationEvent('notificationclick', { notification }));
    }, title);
    // The dialog's address, with the inbox's list after it once the console has shown it.
    await page.waitForURL((current) => current.href === url || current.href.startsWith(`${url}?`));
    await page.locator('.msg-in', { hasText: 'Pushed to you' }).waitFor();
  });
});

test('the main screen with a dialog open fits 1366x768 and 1920x1080', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const visitor = keep(await Visitor.connect(browser));
    const message = await visitor.send(unique('Hi! Is the green jacket still in stock in size M?'));
    for (const [width, height] of [[1366, 768], [1920, 1080]]) {
      const { page } = keep(await openConsole(browser, env.owner, { viewport: { width, height } }));
      await showCategory(page, 'all');
      await dialogItem(page, message.dialog_id).click();
      await page.locator('.msg-in').first().waitFor();
      await page.locator('.contact-panel .contact-card').waitFor();
      const layout = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        actions: [...document.querySelectorAll('.conv-actions .icon-button')].map((button) => {
          const rect = button.getBoundingClientRect();
          return rect.right <= window.innerWidth && rect.width > 0;
        }),
        composerBottom: document.querySelector('.composer').getBoundingClientRect().bottom,
        innerHeight: window.innerHeight,
      }));
      assert.ok(layout.scrollWidth <= layout.innerWidth, `no horizontal scroll at ${width}`);
      // Assign, event filter, edit, block (a visitor of the site), close.
      assert.deepEqual(layout.actions, [true, true, true, true, true], `the five dialog actions are visible at ${width}`);
      assert.ok(layout.composerBottom <= layout.innerHeight, `the composer is on screen at ${width}`);
      await screenshot(page, `console-${width}x${height}.png`);
    }
  });
});

// Last: nobody may use this manager meanwhile, or the session stays alive.
// Skipped against a suite with a long limit: node 20 matches --test-name-pattern
// against the file too, so a pattern that excludes this test by name would not.
const LONGEST_IDLE_TO_WAIT_SECS = 60;
test('the session ends after the inactivity limit on both devices', {
  timeout: TEST_TIMEOUT + env.idleSecs * 1000,
  skip: env.idleSecs > LONGEST_IDLE_TO_WAIT_SECS ? `IDLE_SECS=${env.idleSecs} is too long to wait for` : false,
}, async () => {
  await withCleanup(async (keep) => {
    const first = keep(await openConsole(browser, env.manager, { freshLogin: true }));
    const second = keep(await openConsole(browser, env.manager, { freshLogin: true }));
    const lastActivity = Date.now();
    const limit = (env.idleSecs + 20) * 1000;
    await first.page.locator('.session-ended').waitFor({ timeout: limit });
    await second.page.locator('.session-ended').waitFor({ timeout: limit });
    const waited = (Date.now() - lastActivity) / 1000;
    assert.ok(waited >= env.idleSecs - 1, `ended after ${waited.toFixed(1)} s, not before the limit of ${env.idleSecs} s`);
    await first.page.locator('.session-ended', { hasText: 'Your session has ended' }).waitFor();

    await first.page.locator('.session-ended button', { hasText: 'Sign in again' }).click();
    await first.page.locator('#login-email').waitFor();
  });
});

// ---------------------------------------------------------------- languages

const CATALOGUE_DIR = new URL('../../services/gateway/static/console/i18n/', import.meta.url);

/** The console's English phrases (two words or more, no placeholders) whose Russian differs. */
function englishPhrases() {
  const en = JSON.parse(readFileSync(new URL('en.json', CATALOGUE_DIR), 'utf8'));
  const ru = JSON.parse(readFileSync(new URL('ru.json', CATALOGUE_DIR), 'utf8'));
  const phrases = [];
  const walk = (english, russian) => {
    for (const [key, value] of Object.entries(english)) {
      if (typeof value === 'string') {
        if (/\s/.test(value.trim()) && !/[{}]/.test(value) && value !== russian?.[key]) phrases.push(value);
      } else if (value && typeof value === 'object') walk(value, russian?.[key] || {});
    }
  };
  walk(en, ru);
  return phrases;
}

/** The console's English phrases on the page now. */
async function englishOn(page) {
  const text = await page.evaluate(() => document.body.innerText);
  return englishPhrases().filter((phrase) => text.includes(phrase));
}

test('a manager whose browser speaks Russian gets the console in Russian, chooses English and back, and it stays theirs', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const visitor = keep(await Visitor.connect(browser));
    const message = await visitor.send(unique('Здравствуйте! Есть доставка в Казань?'));
    const { page } = keep(await openConsole(browser, env.manager, { locale: 'ru-RU', freshLogin: true }));
    // The browser's language again afterwards, for the tests that follow.
    keep({ close: () => apiFromPage(page, 'PATCH', '/me', { language: null }).catch(() => {}) });
    await page.locator('.nav-item[data-category="mine"]', { hasText: 'Мои' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'ru');
    await openDialog(page, message.dialog_id);
    await page.locator('.msg-in .msg-text', { hasText: 'Казань' }).waitFor();
    assert.match(await page.locator('.msg-in .msg-footer').first().textContent(), /^\d{2}:\d{2}/, 'a 24-hour time');
    assert.deepEqual(await englishOn(page), [], 'no English on the inbox');
    await screenshot(page, 'console-ru-dialog-1366x768.png');
    for (const section of ['widget', 'templates', 'managers', 'notifications', 'integrations', 'sessions']) {
      await page.goto(consoleUrl(`#/settings/${section}`));
      await page.locator('.settings-nav').waitFor();
      await page.waitForTimeout(300);
      assert.deepEqual(await englishOn(page), [], `no English on Settings → ${section}`);
      if (['widget', 'integrations'].includes(section)) await screenshot(page, `console-ru-settings-${section}-1366x768.png`);
    }

    // English from the name menu: at once, and kept for the manager.
    await page.goto(consoleUrl());
    await page.locator('.profile-button').click();
    await page.locator('.menu-item[data-language="en"]').click();
    await page.locator('.nav-item[data-category="mine"]', { hasText: 'Mine' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    const me = await page.evaluate(() => fetch('/api/v1/me').then((response) => response.json()));
    assert.equal(me.language, 'en');
    // Another device of theirs, its browser in Russian: their choice wins.
    const { page: other } = keep(await openConsole(browser, env.manager, { locale: 'ru-RU', freshLogin: true }));
    await other.locator('.nav-item[data-category="mine"]', { hasText: 'Mine' }).waitFor();
    await other.locator('.profile-button').click();
    await other.locator('.menu-item[data-language="ru"]').click();
    await other.locator('.nav-item[data-category="mine"]', { hasText: 'Мои' }).waitFor();
  });
});

test('the inbox list chosen is in the address: a reload keeps it; Settings is in the main navigation and opens on the online consultant', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    await page.locator('.nav-item[data-category="new"]').click();
    await page.locator('.segment', { hasText: 'Closed' }).click();
    await eventually(() => /#\/dialogs\?in=new&status=closed$/.test(page.url()), { message: `the list in the address: ${page.url()}` });
    await page.reload();
    await page.locator('.nav-item.is-selected[data-category="new"]').waitFor();
    await page.locator('.segment.is-selected', { hasText: 'Closed' }).waitFor();
    assert.match(page.url(), /\?in=new&status=closed$/, 'still the same list');

    await page.locator('.nav-settings [data-nav="settings"]').click();
    await page.locator('form.widget-settings').waitFor();
    assert.match(page.url(), /#\/settings\/widget$/);
    // Back to the inbox: the same list.
    await page.goBack();
    await page.locator('.nav-item.is-selected[data-category="new"]').waitFor();
  });
});

test('a shop that has not finished its first steps gets a getting-started list that ticks by what the suite sees, and can hide it', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner, { freshLogin: true }));
    const real = await apiFromPage(page, 'GET', '/onboarding');
    assert.equal(real.status, 200);
    const steps = ['widget_seen', 'messenger_connected', 'team_invited', 'messages_set'];
    const list = page.locator('.getting-started');
    if (steps.every((step) => real.body[step])) {
      await page.locator('.empty-title', { hasText: 'Pick a dialog' }).waitFor();
      assert.equal(await list.count(), 0, 'nothing left to do: no list');
    } else {
      await list.waitFor();
      for (const step of steps) {
        const done = await list.locator(`[data-step="${step}"]`).evaluate((item) => item.classList.contains('is-done'));
        assert.equal(done, real.body[step] === true, `${step} ticked as the server sees it`);
      }
    }

    // A new shop's answer (nothing done yet), in a fresh page: every step to do, each with its way there.
    await page.route('**/api/v1/onboarding', (route) => route.fulfill({ json: { widget_seen: false, widget_seen_url: null, messenger_connected: false, team_invited: false, messages_set: false } }));
    await page.reload();
    await list.locator('.getting-started-progress', { hasText: '0 of 4 done' }).waitFor();
    assert.equal(await list.locator('.getting-started-step:not(.is-done)').count(), 4);
    await screenshot(page, 'console-getting-started-1366x768.png');
    await list.locator('[data-step="messenger_connected"] button').click();
    await page.locator('.integration-card').first().waitFor();
    assert.match(page.url(), /#\/settings\/integrations$/);
    await page.goBack();
    await list.locator('[data-action="hide-getting-started"]').click();
    await page.locator('.empty-title', { hasText: 'Pick a dialog' }).waitFor();
    await page.reload();
    await page.locator('.empty-title', { hasText: 'Pick a dialog' }).waitFor();
    assert.equal(await list.count(), 0, 'hidden stays hidden');
  });
});
