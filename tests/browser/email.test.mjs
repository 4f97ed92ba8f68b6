// Browser tests of e-mail, against real SMTP servers (two MailDev catchers
// the suite's Rust test starts: the deployment's, and one playing a shop's
// own server): the owner sets the shop's server in Settings; a manager who
// closed the console gets the visitor's message by e-mail; a visitor who
// left gets the answer by e-mail from the shop's server, the console says
// it went by e-mail, and the visitor's answer to that e-mail appears in the
// console.
//
// Started as console.test.mjs is, with MAIL_WEB_URL, SHOP_MAIL_WEB_URL,
// SHOP_SMTP_PORT, SHOP_SMTP_USER and SHOP_SMTP_PASSWORD besides.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  env, launchBrowser, openConsole, consoleUrl, Visitor, unique, openDialog, sendFromComposer,
  eventually, screenshot, withCleanup, apiFromPage, emailAnswer, caughtMails,
} from './support.mjs';

const TEST_TIMEOUT = 120_000;
let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('the shop’s own server is checked and kept; a visitor who left gets the answer from it, and her answer comes back', { timeout: TEST_TIMEOUT }, async () => {
  assert.ok(env.mail.webUrl && env.mail.shopSmtpPort, 'MAIL_WEB_URL and SHOP_SMTP_PORT are set');
  await withCleanup(async (keep) => {
    // Whatever happens below, the owner ends with the deployment's server
    // and alert e-mails on, as the other tests expect.
    keep({
      close: async () => {
        const { page, context } = await openConsole(browser, env.owner);
        await apiFromPage(page, 'DELETE', '/account/smtp');
        await apiFromPage(page, 'PATCH', '/me/notifications', { email: true });
        await context.close();
      },
    });
    // Settings → Notifications → Sending server: a wrong password is
    // refused by the server itself, the right one kept.
    const owner = keep(await openConsole(browser, env.owner));
    await owner.page.goto(consoleUrl('#/settings/notifications'));
    await owner.page.locator('[data-action="smtp-set-up"]').click();
    const form = owner.page.locator('[data-role="smtp-form"]');
    await form.locator('input[name="host"]').fill('127.0.0.1');
    await form.locator('input[name="port"]').fill(String(env.mail.shopSmtpPort));
    await form.locator('select[name="security"]').selectOption('none');
    await form.locator('input[name="username"]').fill(env.mail.shopSmtpUser);
    await form.locator('input[name="password"]').fill('not-the-password');
    await form.locator('input[name="from_address"]').fill('support@browser-shop.example');
    await form.locator('button[type="submit"]').click();
    await form.locator('.field-error', { hasText: 'refused the sign-in' }).waitFor();
    await screenshot(owner.page, 'settings-sending-server-refused-1366x768.png');
    assert.equal((await apiFromPage(owner.page, 'GET', '/account/smtp')).body.configured, false, 'nothing kept');
    await form.locator('input[name="password"]').fill(env.mail.shopSmtpPassword);
    await form.locator('button[type="submit"]').click();
    const kept = owner.page.locator('[data-role="smtp-server"]');
    await kept.locator('.switch-title', { hasText: 'From support@browser-shop.example' }).waitFor();
    await owner.page.locator('.toast [aria-label="Dismiss"]').click();
    for (const [width, height] of [[1366, 768], [1920, 1080]]) {
      await owner.page.setViewportSize({ width, height });
      await kept.scrollIntoViewIfNeeded();
      await screenshot(owner.page, `settings-sending-server-${width}x${height}.png`);
    }
    await owner.context.close();

    // No console open: the visitor's message reaches the managers by e-mail
    // (the deployment's server), with a link to the dialog.
    const visitor = keep(await Visitor.connect(browser));
    const address = `${unique('anna').toLowerCase()}@buyer.example`;
    await visitor.identify({ name: 'Anna', email: address });
    const question = unique('Is the green scarf in stock?');
    const message = await visitor.send(question);
    const alert = await eventually(async () => (await caughtMails(env.mail.webUrl, env.owner.email)).find((mail) => mail.text.includes(question)), { timeout: 30_000, message: 'the alert e-mail to the owner' });
    assert.ok(alert.text.includes(`#/dialogs/${message.dialog_id}`), 'the e-mail links to the dialog');

    // She leaves; the answer goes to her by e-mail from the shop's server,
    // and the console says so.
    await visitor.leave();
    const { page } = keep(await openConsole(browser, env.owner));
    await openDialog(page, message.dialog_id);
    const answer = unique('Yes, three are left.');
    await sendFromComposer(page, answer);
    const sent = page.locator('.msg-out', { hasText: answer });
    await sent.locator('.msg-emailed', { hasText: 'sent by e-mail' }).waitFor({ timeout: 30_000 });
    const [toHer] = await eventually(async () => {
      const mails = await caughtMails(env.mail.shopWebUrl, address);
      return mails.length ? mails : null;
    }, { message: 'the answer in the shop’s catcher' });
    assert.match(toHer.from[0].address, /^support@browser-shop\.example$/);
    assert.ok(toHer.text.includes(answer));
    assert.equal((await caughtMails(env.mail.webUrl, address)).length, 0, 'not by the deployment’s server');

    // Her answer to that e-mail (as her mail host hands it on) appears live.
    const hers = unique('Great, I will pick one up tomorrow.');
    const replyTo = toHer.replyTo?.[0]?.address ?? toHer.headers['reply-to'];
    assert.ok(replyTo, 'the e-mail has the dialog’s reply address');
    await eventually(async () => (await emailAnswer({ from: address, to: replyTo, messageId: unique('answer'), text: `${hers}\n\n> ${answer}` })) === 'posted', { message: 'her answer posted' });
    await page.locator('.msg-in .msg-text', { hasText: hers }).waitFor();
    for (const [width, height] of [[1366, 768], [1920, 1080]]) {
      await page.setViewportSize({ width, height });
      await screenshot(page, `conversation-emailed-${width}x${height}.png`);
    }

    // The alert's one-click unsubscribe link, opened in a browser without a
    // session: the console asks first, then the owner's alerts are off.
    const link = (alert.headers['list-unsubscribe'] || '').replace(/^<|>$/g, '');
    assert.match(link, /\/api\/v1\/unsubscribe\/[0-9a-f-]{36}$/);
    assert.equal(alert.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
    const stranger = keep(await browser.newContext());
    const unsubscribePage = await stranger.newPage();
    await unsubscribePage.setViewportSize({ width: 1366, height: 768 });
    await unsubscribePage.goto(link);
    await unsubscribePage.locator('.auth-card h1', { hasText: 'Stop e-mails about new messages?' }).waitFor();
    assert.equal((await apiFromPage(page, 'GET', '/me/notifications')).body.email, true, 'opening the link changes nothing');
    for (const [width, height] of [[1366, 768], [1920, 1080]]) {
      await unsubscribePage.setViewportSize({ width, height });
      await screenshot(unsubscribePage, `unsubscribe-${width}x${height}.png`);
    }
    await unsubscribePage.getByRole('button', { name: 'Stop these e-mails' }).click();
    await unsubscribePage.locator('.auth-card h1', { hasText: 'You will get no more of these e-mails' }).waitFor();
    assert.equal((await apiFromPage(page, 'GET', '/me/notifications')).body.email, false, 'the owner’s alerts are off');
  });
});
