// Browser tests of Settings → Messengers: an owner connects the shop's
// Telegram bot (a wrong token is refused under the field), a person writes
// to the bot (through the fake Telegram, TELEGRAM_URL) and the message
// arrives in the inbox marked "via Telegram"; the answer reaches Telegram
// and shows as delivered; the integration shows as working; once Telegram
// refuses the bot's token, the composer warns before anyone answers into
// it; an owner connects a VK community the same way and answers its
// people; a plain manager sees the messengers' health but cannot change it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, launchBrowser, openConsole, consoleUrl, showCategory, sendFromComposer, eventually, screenshot, withCleanup, unique } from './support.mjs';

const TEST_TIMEOUT = 90_000;
let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

async function fake(method, path, body) {
  const response = await fetch(`${env.telegramUrl}/_fake/telegram${path}`, {
    method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status}`);
  return response.status === 201 && path.endsWith('/messages') ? response.json() : null;
}

test('an owner connects a Telegram bot and a person writing to it appears in the inbox', { timeout: TEST_TIMEOUT }, async () => {
  assert.ok(env.telegramUrl, 'TELEGRAM_URL must be set');
  const token = `${Math.floor(100000 + Math.random() * 800000)}:browser-test-token`;
  await fake('POST', '/bots', { token, username: 'browser_tea_bot' });
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    await page.goto(consoleUrl('#/settings/integrations'));
    const card = page.locator('.integration-card[data-channel="telegram"]');
    await card.waitFor();
    await page.locator('.integration-card[data-channel="facebook"] .chip', { hasText: 'Needs a public address' }).waitFor();
    await screenshot(page, 'messengers-empty-1366.png');

    await card.locator('[data-action="connect"]').click();
    const input = page.locator('input[name="bot_token"]');
    await input.fill('999999:not-a-bot-telegram-knows');
    await page.locator('.modal button[type="submit"]').click();
    await page.locator('.field-error', { hasText: 'Telegram does not know this token' }).waitFor();
    await input.fill(token);
    await page.locator('.modal button[type="submit"]').click();
    await card.locator('.integration-name', { hasText: '@browser_tea_bot' }).waitFor();
    assert.equal(await page.locator('body').innerText().then((t) => t.includes('browser-test-token')), false, 'the token is never shown');

    const text = unique('Есть ли у вас улун?');
    const person = { id: Math.floor(Math.random() * 1e9), first_name: 'Вера', last_name: '<b>Бот</b>' };
    await fake('POST', `/bots/${encodeURIComponent(token)}/messages`, { person, text });

    await page.goto(consoleUrl('#/dialogs'));
    await showCategory(page, 'new');
    const item = page.locator('.dialog-item', { hasText: text });
    await item.waitFor({ timeout: 20_000 });
    // The list says where they wrote from.
    await item.locator('.chip-channel[data-channel="telegram"]', { hasText: 'Telegram' }).waitFor();
    await item.click();
    await page.locator('.msg-in .msg-text', { hasText: text }).waitFor();
    await page.locator('.msg-in', { hasText: 'via Telegram' }).first().waitFor();
    // The name from the profile is text, never markup.
    assert.equal(await page.locator('.dialog-item b', { hasText: 'Бот' }).count(), 0);
    await page.locator('.dialog-item', { hasText: 'Вера <b>Бот</b>' }).first().waitFor();

    // A photo comes with its caption and a link that opens it.
    const caption = `${unique('Вот такой')}, https://shop.example/oolong?id=7.`;
    await fake('POST', `/bots/${encodeURIComponent(token)}/messages`, { person, text: caption, attachment: 'photo' });
    const photo = page.locator('.msg-in', { hasText: '[photo]' });
    await photo.waitFor();
    const links = photo.locator('a.msg-link');
    assert.equal(await links.count(), 2, 'the address in the caption, and the photo');
    assert.equal(await links.nth(0).getAttribute('href'), 'https://shop.example/oolong?id=7', 'the full stop is not part of it');
    assert.equal(await links.nth(0).getAttribute('target'), '_blank');
    const href = await links.nth(1).getAttribute('href');
    assert.match(href, /\/api\/v1\/files\/telegram\/[\w-]+$/);
    const opened = await page.evaluate(async (url) => {
      const response = await fetch(url);
      return { status: response.status, type: response.headers.get('content-type'), size: (await response.arrayBuffer()).byteLength };
    }, href);
    assert.deepEqual([opened.status, opened.type], [200, 'image/jpeg']);
    assert.ok(opened.size > 1000, `a whole photo (${opened.size} bytes)`);

    // A document saves under the name the person gave it, not Telegram's.
    const fileName = unique('прайс & цены') + '.txt';
    await fake('POST', `/bots/${encodeURIComponent(token)}/messages`, { person, text: fileName, attachment: 'document' });
    const document = page.locator('.msg-in', { hasText: `[document: ${fileName}]` });
    await document.waitFor();
    const documentLink = document.locator('a.msg-link');
    assert.equal(await documentLink.innerText(), 'open file');
    const saved = await page.evaluate(async (url) => {
      const response = await fetch(url);
      return { status: response.status, disposition: response.headers.get('content-disposition'), text: await response.text() };
    }, await documentLink.getAttribute('href'));
    assert.equal(saved.status, 200);
    assert.equal(saved.text, `${fileName}\n`);
    const [, encoded] = saved.disposition.match(/^attachment; .*filename\*=UTF-8''(\S+)$/) ?? [];
    assert.equal(decodeURIComponent(encoded ?? ''), fileName, saved.disposition);

    // Too long for where it goes: said before sending, and nothing is sent.
    const composer = page.locator('.composer-input');
    await composer.fill('й'.repeat(4097));
    const tooLong = page.locator('.composer-too-long:not([hidden])');
    await tooLong.waitFor();
    assert.match(await tooLong.innerText(), /Too long for Telegram: 4,097 of 4,096 characters/);
    assert.equal(await page.locator('.composer-send').isDisabled(), true);
    await composer.press('Enter');
    assert.equal((await composer.inputValue()).length, 4097, 'the text stays to be shortened');
    await screenshot(page, 'messengers-too-long-1366.png');
    await composer.fill('');
    await tooLong.waitFor({ state: 'detached' });
    assert.equal(await page.locator('.composer-send').isDisabled(), false);

    // The answer goes back through Telegram, and shows as delivered.
    const answer = unique('Есть, и пуэр тоже');
    await sendFromComposer(page, answer);
    await eventually(async () => {
      const bot = await (await fetch(`${env.telegramUrl}/_fake/telegram/bots/${encodeURIComponent(token)}`)).json();
      return bot.sent.some((m) => m.text === answer && m.chat.id === person.id);
    }, { message: 'the answer in Telegram' });
    const out = page.locator('.msg-out', { hasText: answer });
    await out.locator('.msg-tick').waitFor();
    assert.equal(await out.locator('.msg-sending').count(), 0);
    assert.equal(await page.locator('.msg-out').count(), 1, 'only the answer: the text too long was never sent');
    await out.locator('.msg-footer', { hasText: 'via Telegram' }).waitFor();
    assert.equal(await page.locator('.composer-warning:not([hidden])').count(), 0, 'a bot connected a moment ago is not shown as broken');
    await screenshot(page, 'messengers-dialog-1366.png');
    const dialogUrl = page.url();

    await page.goto(consoleUrl('#/settings/integrations'));
    await eventually(async () => (await card.locator('[data-health="healthy"]').count()) === 1, { message: 'the integration shows as working' });
    await screenshot(page, 'messengers-connected-1366.png');

    // The composer says where a reply goes, and warns once the bot is broken.
    await page.goto(dialogUrl);
    await page.locator('.composer-channel', { hasText: 'via Telegram' }).waitFor();
    assert.equal(await page.locator('.composer-warning:not([hidden])').count(), 0, 'no warning while it works');
    await fake('POST', `/bots/${encodeURIComponent(token)}/revoke`);
    await eventually(async () => {
      await page.reload();
      await page.locator('.composer-channel').waitFor();
      return page.locator('.composer-warning[data-channel="telegram"]:not([hidden])').isVisible();
    }, { timeout: 30_000, interval: 1000, message: 'the composer warning of a broken Telegram' });
    const warning = await page.locator('.composer-warning').innerText();
    assert.match(warning, /Telegram is not working/);
    await screenshot(page, 'messengers-broken-composer-1366.png');
  });
});

async function fakeVk(method, path, body) {
  const response = await fetch(`${env.telegramUrl}/_fake/vk${path}`, {
    method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status}`);
}

test('an owner connects a VK community and answers a person writing to it', { timeout: TEST_TIMEOUT }, async () => {
  const group = Math.floor(300_000_000 + Math.random() * 1e8);
  const token = `vk1.a.browser-${group}`;
  await fakeVk('POST', '/communities', { group_id: group, token, name: 'Чайная <i>лавка</i>', confirmation: 'c0nf1rm' });
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    await page.goto(consoleUrl('#/settings/integrations'));
    const card = page.locator('.integration-card[data-channel="vk"]');
    await card.locator('[data-action="connect"], [data-action="reconnect"]').click();
    // Long polling here (no public address): the Callback API's fields are not asked.
    assert.equal(await page.locator('input[name="confirmation"]').count(), 0);
    await page.locator('input[name="group_id"]').fill(`club${group}`);
    await page.locator('input[name="access_token"]').fill('vk1.a.not-a-token-vk-knows');
    await page.locator('.modal button[type="submit"]').click();
    await page.locator('.field-error', { hasText: 'VK does not take this token' }).waitFor();
    await page.locator('input[name="access_token"]').fill(token);
    await screenshot(page, 'messengers-vk-connect-1366.png');
    await page.locator('.modal button[type="submit"]').click();
    await card.locator('.integration-name', { hasText: 'Чайная <i>лавка</i>' }).waitFor();
    assert.equal(await card.locator('.integration-name i').count(), 0, 'the name is text');
    assert.equal(await page.locator('body').innerText().then((t) => t.includes(token)), false, 'the token is never shown');

    const text = unique('Добрый вечер, есть ли матча?');
    const person = { id: Math.floor(Math.random() * 1e8), first_name: 'Ольга', last_name: 'Смирнова' };
    await fakeVk('POST', `/communities/${group}/messages`, { person, text });
    await page.goto(consoleUrl('#/dialogs'));
    await showCategory(page, 'new');
    const item = page.locator('.dialog-item', { hasText: text });
    await item.waitFor({ timeout: 20_000 });
    await item.click();
    await page.locator('.msg-in', { hasText: 'via VK' }).first().waitFor();
    await page.locator('.composer-channel', { hasText: 'via VK' }).waitFor();

    const answer = unique('Есть, церемониальная');
    await sendFromComposer(page, answer);
    await eventually(async () => {
      const state = await (await fetch(`${env.telegramUrl}/_fake/vk/communities/${group}`)).json();
      return state.sent.some((m) => m.message === answer && m.peer_id === person.id);
    }, { message: 'the answer in VK' });
    await page.locator('.msg-out', { hasText: answer }).locator('.msg-tick').waitFor();
    await screenshot(page, 'messengers-vk-dialog-1366.png');
    await page.goto(consoleUrl('#/settings/integrations'));
    await eventually(async () => (await card.locator('[data-health="healthy"]').count()) === 1, { message: 'VK shows as working' });
    await screenshot(page, 'messengers-both-1366.png');
  });
});

test('a plain manager sees the messengers and their health but cannot change them', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.manager));
    await page.goto(consoleUrl('#/settings/integrations'));
    const card = page.locator('.integration-card[data-channel="telegram"]');
    await card.waitFor();
    assert.equal(await page.locator('[data-action="connect"], [data-action="disconnect"], [data-action="reconnect"]').count(), 0);
  });
});
