// Browser tests of the console's Settings → Online consultant and Visitors
// on the site, against a running suite (see console.test.mjs for how they
// are started: the same variables, SCREENSHOT_DIR included).
//
// The settings are the account's: every test that changes them puts back
// what it found, whatever happens, so that later tests (and test files)
// find the widget on and answering the suite's own origin.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  env, launchBrowser, openConsole, consoleUrl, unique, apiFromPage, eventually, screenshot, Visitor,
  withCleanup,
} from './support.mjs';

const TEST_TIMEOUT = 90_000;
const SIZES = [[1366, 768], [1920, 1080]];
/** A real 1x1 PNG, for the photo that must be taken. */
const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const EDITABLE = ['enabled', 'manager_sound', 'visitor_sound', 'position', 'color', 'online_title', 'online_message',
  'offline_title', 'offline_message', 'hidden_pages', 'allowed_origins', 'language', 'language_from_browser'];
const suiteOrigin = new URL(env.baseUrl).origin;

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

const editable = (settings) => Object.fromEntries(EDITABLE.map((name) => [name, settings[name]]));

async function getSettings(page) {
  const answer = await apiFromPage(page, 'GET', '/widget/settings');
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

/** Runs body with the account's settings as they are now, and puts them back afterwards. */
async function keepingSettings(page, body) {
  const original = await getSettings(page);
  try {
    await body(original);
  } finally {
    const restore = { ...editable(original) };
    const now = await getSettings(page).catch(() => null);
    if (now && now.offline_photo_url !== original.offline_photo_url && original.offline_photo_url === null) restore.offline_photo = null;
    const answer = await apiFromPage(page, 'PUT', '/widget/settings', restore);
    assert.equal(answer.status, 200, `the settings were put back: ${JSON.stringify(answer.body)}`);
  }
}

/** Opens the page; reload: load the console anew (a new manager socket). */
async function openWidgetSettings(page, { reload = false } = {}) {
  await page.goto(consoleUrl('#/settings/widget'));
  if (reload) await page.reload();
  await page.locator('form.widget-settings').waitFor();
  await page.locator('.pattern-preview:not([data-state="loading"])').waitFor();
}

const fieldOf = (page, control) => page.locator('.field').filter({ has: page.locator(control) });
const fieldError = (page, control) => fieldOf(page, control).locator('.field-error');

/** Clicks Save and answers the PUT's status and body. */
async function clickSave(page) {
  const [response] = await Promise.all([
    page.waitForResponse((candidate) => candidate.url().endsWith('/api/v1/widget/settings') && candidate.request().method() === 'PUT'),
    page.locator('[data-action="save"]').click(),
  ]);
  return { status: response.status(), body: await response.json().catch(() => null), request: JSON.parse(response.request().postData() || 'null') };
}

const visitorRow = (page, contactId) => page.locator(`.visitor-row[data-contact-id="${contactId}"]`);

// ---------------------------------------------------------------- settings

test('every field of the online consultant is saved by Save and shown again after a reload', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    await keepingSettings(page, async (original) => {
      await openWidgetSettings(page);
      assert.ok(await page.locator('[data-action="save"]').isDisabled(), 'Save is disabled until something changes');

      const wanted = {
        enabled: !original.enabled,
        manager_sound: original.manager_sound === 'bell' ? 'pop' : 'bell',
        visitor_sound: original.visitor_sound === 'none' ? 'chime' : 'none',
        position: original.position === 'bottom_left' ? 'bottom_right' : 'bottom_left',
        color: original.color === '#0f766e' ? '#b45309' : '#0f766e',
        online_title: unique('Ask us'),
        online_message: unique('We answer within a minute, in English or Spanish.'),
        offline_title: unique('Leave a message'),
        offline_message: unique('We are away. Leave your e-mail and we will write back.'),
        hidden_pages: ['/checkout/*', 'shop.example.com/account/*'],
        allowed_origins: [suiteOrigin, 'https://shop.example.com'],
        language: original.language === 'ru' ? 'en' : 'ru',
        language_from_browser: !original.language_from_browser,
      };
      await page.locator('input[name="enabled"]').setChecked(wanted.enabled);
      await page.locator('select[name="manager_sound"]').selectOption(wanted.manager_sound);
      await page.locator('select[name="visitor_sound"]').selectOption(wanted.visitor_sound);
      assert.ok(await page.locator('[data-action="play-visitor_sound"]').isDisabled() === (wanted.visitor_sound === 'none'), '"No sound" has nothing to play');
      await page.locator(`.radio-card[data-position="${wanted.position}"]`).click();
      await page.locator('input[name="color"]').fill(wanted.color.toUpperCase());
      assert.equal(await page.locator('input.color-swatch').inputValue(), wanted.color, 'the colour picker follows the text field');
      await page.locator('input[name="online_title"]').fill(wanted.online_title);
      await page.locator('textarea[name="online_message"]').fill(wanted.online_message);
      await page.locator('input[name="offline_title"]').fill(wanted.offline_title);
      await page.locator('textarea[name="offline_message"]').fill(wanted.offline_message);
      await page.locator('textarea[name="hidden_pages"]').fill(`${wanted.hidden_pages[0]}\n\n  ${wanted.hidden_pages[1]}  \n`);
      await page.locator('textarea[name="allowed_origins"]').fill(wanted.allowed_origins.join('\n'));
      await page.locator('select[name="language"]').selectOption(wanted.language);
      await page.locator('input[name="language_from_browser"]').setChecked(wanted.language_from_browser);
      await page.locator('input[name="offline_photo"]').setInputFiles({ name: 'assistant.png', mimeType: 'image/png', buffer: PNG_1X1 });
      await page.locator('.photo-preview img').waitFor();
      await page.locator('.save-status.is-dirty').waitFor();

      // The live preview follows the form before anything is saved.
      const stage = page.locator('.wp-stage');
      assert.equal(await stage.getAttribute('data-position'), wanted.position);
      assert.equal(await page.locator('.wp-title').textContent(), wanted.online_title);
      assert.equal(await stage.evaluate((element) => element.style.getPropertyValue('--wp-color')), wanted.color);

      const saved = await clickSave(page);
      assert.equal(saved.status, 200, JSON.stringify(saved.body));
      assert.equal(saved.request.offline_photo, PNG_1X1.toString('base64'), 'the photo goes as base64');
      assert.equal(saved.request.color, wanted.color, 'the colour goes in lower case');
      await page.locator('.save-status.is-saved', { hasText: 'Saved' }).waitFor();
      assert.ok(await page.locator('[data-action="save"]').isDisabled(), 'nothing left to save');

      const stored = await getSettings(page);
      assert.deepEqual(editable(stored), wanted);
      assert.ok(stored.offline_photo_url, 'the photo has an address');
      assert.notEqual(stored.offline_photo_url, original.offline_photo_url);

      await page.reload();
      await page.locator('form.widget-settings').waitFor();
      assert.equal(await page.locator('input[name="enabled"]').isChecked(), wanted.enabled);
      assert.equal(await page.locator('select[name="manager_sound"]').inputValue(), wanted.manager_sound);
      assert.equal(await page.locator('select[name="visitor_sound"]').inputValue(), wanted.visitor_sound);
      assert.ok(await page.locator(`input[name="position"][value="${wanted.position}"]`).isChecked());
      assert.equal(await page.locator('input[name="color"]').inputValue(), wanted.color);
      for (const name of ['online_title', 'offline_title']) assert.equal(await page.locator(`input[name="${name}"]`).inputValue(), wanted[name]);
      for (const name of ['online_message', 'offline_message']) assert.equal(await page.locator(`textarea[name="${name}"]`).inputValue(), wanted[name]);
      assert.equal(await page.locator('textarea[name="hidden_pages"]').inputValue(), wanted.hidden_pages.join('\n'));
      assert.equal(await page.locator('textarea[name="allowed_origins"]').inputValue(), wanted.allowed_origins.join('\n'));
      assert.equal(await page.locator('select[name="language"]').inputValue(), wanted.language);
      assert.equal(await page.locator('input[name="language_from_browser"]').isChecked(), wanted.language_from_browser);
      const photo = page.locator('.photo-preview img');
      await photo.waitFor();
      assert.equal(await photo.getAttribute('src'), stored.offline_photo_url);
      await eventually(() => photo.evaluate((image) => image.complete && image.naturalWidth === 1), { message: 'the saved photo loading' });
      assert.equal(await page.locator('.save-status.is-dirty').count(), 0, 'a reloaded page has nothing unsaved');

      // Read-only parts: the snippet with this suite's address and site key, and the identity secret behind "Show".
      const snippet = await page.locator('[data-field="snippet"]').textContent();
      assert.ok(snippet.includes(`src="${suiteOrigin}/widget.js"`), snippet);
      assert.ok(snippet.includes(`data-site-key="${env.siteKey}"`), snippet);
      assert.ok(snippet.startsWith('<script>window.ChatWidget=window.ChatWidget||function(){(ChatWidget.q=ChatWidget.q||[]).push(arguments)};</script>'), snippet);
      const secret = page.locator('[data-field="identity-secret"]');
      assert.equal(await secret.getAttribute('type'), 'password', 'the secret is hidden until Show');
      assert.equal(await secret.inputValue(), stored.identity_secret);
      await page.locator('[data-action="show-secret"]').click();
      assert.equal(await secret.getAttribute('type'), 'text');

      // Removing the photo is sent as null, on Save only.
      await page.locator('[data-action="remove-photo"]').click();
      await page.locator('.photo-preview .photo-empty').waitFor();
      assert.equal((await getSettings(page)).offline_photo_url, stored.offline_photo_url, 'nothing changes before Save');
      const removed = await clickSave(page);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.equal(removed.request.offline_photo, null);
      assert.equal((await getSettings(page)).offline_photo_url, null);
    });
  });
});

test('a bad colour, a title over the limit, a pattern or site that does not parse show their error and save nothing; fixing a field clears it; a non-image photo is refused when chosen', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    await keepingSettings(page, async (original) => {
      await openWidgetSettings(page);
      const cases = [
        { what: 'a bad colour', control: 'input[name="color"]', make: () => page.locator('input[name="color"]').fill('#12345g'), fix: '#123456', field: 'color' },
        { what: 'a title over 60 characters', control: 'input[name="online_title"]', make: () => page.locator('input[name="online_title"]').fill('x'.repeat(61)), fix: 'Ask us', field: 'online_title' },
        {
          what: 'a pattern that does not parse', control: 'textarea[name="hidden_pages"]', field: 'hidden_pages[1]', line: 3, fix: '/fine/*',
          make: () => page.locator('textarea[name="hidden_pages"]').fill('/fine/*\n\n/a['),
        },
        {
          what: 'a site with a path', control: 'textarea[name="allowed_origins"]', field: 'allowed_origins[1]', line: 2, fix: suiteOrigin,
          make: () => page.locator('textarea[name="allowed_origins"]').fill(`${suiteOrigin}\nhttps://shop.example.com/catalog`),
        },
      ];
      for (const bad of cases) {
        // A good change goes with the bad one: all or nothing is saved.
        await page.locator('textarea[name="offline_message"]').fill(unique('This would be a fine message'));
        await bad.make();
        const answer = await clickSave(page);
        assert.equal(answer.status, 422, `${bad.what}: ${JSON.stringify(answer.body)}`);
        const problem = answer.body?.error?.fields?.[bad.field];
        assert.ok(problem, `${bad.what}: the 422 names ${bad.field}: ${JSON.stringify(answer.body)}`);
        const error = fieldError(page, bad.control);
        await error.waitFor();
        const shown = await error.textContent();
        assert.ok(shown.toLowerCase().includes(problem.toLowerCase()), `${bad.what}: "${shown}" shows "${problem}"`);
        if (bad.line) assert.ok(shown.includes(`Line ${bad.line}:`), `${bad.what}: "${shown}" names line ${bad.line}`);
        assert.equal(await page.locator('.field.has-error').count(), 1, `${bad.what}: only its own field is marked`);
        await page.locator('.save-bar .form-error', { hasText: 'Nothing was saved' }).waitFor();
        assert.deepEqual(editable(await getSettings(page)), editable(original), `${bad.what}: nothing was saved`);
        assert.equal((await getSettings(page)).offline_photo_url, original.offline_photo_url, `${bad.what}: the photo is as it was`);
        // Fixed, the field's error goes at once (the next Save says anew what is wrong).
        await page.locator(bad.control).fill(bad.fix);
        await eventually(async () => (await page.locator('.field.has-error').count()) === 0, { message: `${bad.what}: the error gone once fixed` });

        await page.locator('[data-action="discard"]').click();
        assert.equal(await page.locator('.field.has-error').count(), 0, 'Discard clears the errors');
        assert.ok(await page.locator('[data-action="save"]').isDisabled(), 'Discard leaves nothing to save');
        assert.equal(await page.locator('textarea[name="offline_message"]').inputValue(), original.offline_message);
      }

      // A file that is no image is refused as it is chosen, before any Save.
      await page.locator('input[name="offline_photo"]').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from('This is not an image, only its name says so.\n') });
      await fieldError(page, 'input[name="offline_photo"]').filter({ hasText: 'not a PNG, JPEG or WebP image' }).waitFor();
      assert.ok(await page.locator('[data-action="save"]').isDisabled(), 'nothing taken, nothing to save');
      assert.equal(await page.locator('.photo-preview img').count(), original.offline_photo_url ? 1 : 0, 'the photo is as it was');
    });
  });
});

test('leaving the page with unsaved changes asks first', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    await openWidgetSettings(page);
    const title = page.locator('input[name="offline_title"]');
    const before = await title.inputValue();
    await title.fill(unique('Unsaved'));
    await page.locator('.settings-nav .nav-item[data-page="templates"]').click();
    const ask = page.locator('dialog.modal', { hasText: 'Leave without saving?' });
    await ask.waitFor();
    await ask.locator('button', { hasText: 'Cancel' }).click();
    assert.ok(page.url().endsWith('#/settings/widget'), page.url());
    assert.notEqual(await title.inputValue(), before, 'staying keeps the changes');

    await page.locator('.settings-nav .nav-item[data-page="templates"]').click();
    await ask.locator('button', { hasText: 'Leave without saving' }).click();
    await page.locator('.page-header h1', { hasText: 'Reply templates' }).waitFor();
    assert.equal((await getSettings(page)).offline_title, before, 'nothing was saved');
  });
});

test('the hidden-pages preview marks the addresses the unsaved patterns hide', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    const original = await getSettings(page);
    await openWidgetSettings(page);
    await page.locator('textarea[name="hidden_pages"]').fill('/checkout/*\nshop.example.com/account/*\n/{cart,basket}');
    const expected = [
      ['https://shop.example.com/', true, null],
      ['https://shop.example.com/checkout/payment', false, '/checkout/*'],
      ['https://shop.example.com/CHECKOUT/address?step=2', false, '/checkout/*'],
      ['https://shop.example.com/account/orders', false, 'shop.example.com/account/*'],
      ['https://other.example.com/account/orders', true, null],
      ['https://shop.example.com/basket', false, '/{cart,basket}'],
      ['https://shop.example.com/cart-items', true, null],
      ['https://shop.example.com/product#/checkout/x', true, null],
    ];
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.url().endsWith('/api/v1/widget/settings/preview') && candidate.status() === 200),
      page.locator('.preview-urls').fill(expected.map(([url]) => url).join('\n')),
    ]);
    const request = JSON.parse(response.request().postData());
    assert.deepEqual(request.hidden_pages, ['/checkout/*', 'shop.example.com/account/*', '/{cart,basket}'], 'the unsaved patterns are asked about');
    const rows = page.locator('.preview-result');
    await eventually(async () => (await rows.count()) === expected.length && (await rows.first().getAttribute('data-url')) === expected[0][0], { message: 'a row for each address' });
    for (const [index, [url, shown, pattern]] of expected.entries()) {
      const row = rows.nth(index);
      assert.equal(await row.getAttribute('data-url'), url);
      assert.equal(await row.getAttribute('data-shown'), String(shown), `${url} is ${shown ? 'shown' : 'hidden'}`);
      if (pattern) assert.equal(await row.locator('.preview-result-pattern code').textContent(), pattern, `${url} is hidden by ${pattern}`);
      else assert.equal(await row.locator('.chip', { hasText: 'Shown' }).count(), 1);
    }

    await page.locator('textarea[name="hidden_pages"]').fill('/fine/*\n/a[');
    await page.locator('.pattern-preview[data-state="error"] .preview-error', { hasText: 'line 2' }).waitFor();
    assert.deepEqual((await getSettings(page)).hidden_pages, original.hidden_pages, 'a preview saves nothing');
    await page.locator('[data-action="discard"]').click();
  });
});

test('a manager sees the settings read-only, and the console takes the manager sound of a save made elsewhere', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const owner = keep(await openConsole(browser, env.owner));
    const manager = keep(await openConsole(browser, env.manager));
    await keepingSettings(owner.page, async (original) => {
      const frames = [];
      manager.page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => {
        try {
          frames.push(JSON.parse(String(payload)));
        } catch {
          // Not JSON: not ours to check.
        }
      }));
      await openWidgetSettings(manager.page, { reload: true });
      const page = manager.page;
      await page.locator('.notice', { hasText: 'Only owners and admins can change these settings' }).waitFor();
      for (const control of ['input[name="enabled"]', 'select[name="manager_sound"]', 'input[name="color"]', 'input[name="online_title"]',
        'textarea[name="offline_message"]', 'textarea[name="hidden_pages"]', 'textarea[name="allowed_origins"]', 'input[name="offline_photo"]']) {
        assert.ok(await page.locator(control).isDisabled(), `${control} is read-only for a manager`);
      }
      assert.equal(await page.locator('[data-action="save"]').count(), 0, 'no Save for a manager');
      assert.equal(await page.locator('[data-field="identity-secret"]').count(), 0, 'no identity secret for a manager');
      assert.ok(!(await page.locator('[data-action="play-manager_sound"]').isDisabled()) || original.manager_sound === 'none', 'the sounds can be played');
      const asManager = await apiFromPage(page, 'GET', '/widget/settings');
      assert.equal(asManager.status, 200);
      assert.ok(!('identity_secret' in asManager.body), 'GET has no identity secret for a manager');
      const put = await apiFromPage(page, 'PUT', '/widget/settings', editable(original));
      assert.equal(put.status, 403, `PUT is for owners and admins: ${JSON.stringify(put.body)}`);

      // The owner saves elsewhere: the manager's console takes the new sound, and the page shows it.
      const sound = original.manager_sound === 'pop' ? 'bell' : 'pop';
      const saved = await apiFromPage(owner.page, 'PUT', '/widget/settings', { ...editable(original), manager_sound: sound });
      assert.equal(saved.status, 200, JSON.stringify(saved.body));
      await eventually(async () => (await page.locator('select[name="manager_sound"]').inputValue()) === sound, { message: 'the manager’s page showing the new sound' });
      assert.equal(await page.evaluate(async () => (await import('/console/store.js')).managerSound()), sound);
      const frame = frames.find((candidate) => candidate.type === 'widget_settings');
      assert.ok(frame, 'a widget_settings frame reached the manager');
      assert.equal(frame.settings.manager_sound, sound);
      assert.ok(!('identity_secret' in frame.settings), 'the frame to a manager has no identity secret');
    });
  });
});

test('an owner generates a new identity secret after confirming', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner));
    await openWidgetSettings(page);
    const secret = page.locator('[data-field="identity-secret"]');
    const before = await secret.inputValue();
    assert.equal(before, (await getSettings(page)).identity_secret);

    const ask = page.locator('dialog.modal', { hasText: 'Generate a new identity secret?' });
    await page.locator('[data-action="new-secret"]').click();
    await ask.locator('button', { hasText: 'Cancel' }).click();
    assert.equal((await getSettings(page)).identity_secret, before, 'Cancel keeps the secret');

    await page.locator('[data-action="new-secret"]').click();
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.url().endsWith('/api/v1/widget/identity-secret')),
      ask.locator('button', { hasText: 'Generate a new secret' }).click(),
    ]);
    assert.equal(response.status(), 200, await response.text());
    await eventually(async () => (await secret.inputValue()) !== before, { message: 'the new secret shown' });
    const after = await secret.inputValue();
    assert.equal(after, (await getSettings(page)).identity_secret);
    assert.ok(after.length >= 32, `a secret of some length: ${after}`);
    assert.ok(await page.locator('[data-action="save"]').isDisabled(), 'a new secret leaves nothing to save');
  });
});

test('a visitor’s message plays the account’s manager sound; "none" and the mute switch are silent', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const owner = keep(await openConsole(browser, env.owner));
    const { page, context } = owner;
    // Every tone the console synthesizes, by frequency.
    await context.addInitScript(() => {
      window.__tones = [];
      const create = AudioContext.prototype.createOscillator;
      AudioContext.prototype.createOscillator = function createOscillator() {
        const oscillator = create.call(this);
        const set = oscillator.frequency.setValueAtTime.bind(oscillator.frequency);
        oscillator.frequency.setValueAtTime = (value, time) => {
          window.__tones.push(value);
          return set(value, time);
        };
        return oscillator;
      };
    });
    await page.reload();
    await page.locator('.connection-status.is-online').waitFor();
    await keepingSettings(page, async (original) => {
      const saveSound = async (sound) => {
        const answer = await apiFromPage(page, 'PUT', '/widget/settings', { ...editable(original), manager_sound: sound });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        await eventually(() => page.evaluate(async (wanted) => (await import('/console/store.js')).managerSound() === wanted, sound), { message: `the console taking ${sound}` });
      };
      const tones = () => page.evaluate(() => window.__tones.slice());
      if (!(await page.locator('.sound-toggle').getAttribute('aria-pressed') === 'true')) await page.locator('.sound-toggle').click();
      await page.locator('.nav-item[data-category="new"]').click(); // a click: browsers let audio start after one
      const visitor = keep(await Visitor.connect(browser));

      await saveSound('bell');
      await visitor.send(unique('Is this tea organic?'));
      await eventually(async () => (await tones()).includes(880), { message: 'the bell’s 880 Hz' });
      assert.ok(!(await tones()).includes(1318.5), 'not the chime');

      await saveSound('none');
      await page.waitForTimeout(1100); // the console plays at most one sound a second
      const before = (await tones()).length;
      // A sound plays as the message is taken in; once the list shows it, none did.
      const shown = (text) => page.locator('.dialog-item-preview', { hasText: text }).waitFor();
      const hello = unique('Hello?');
      await visitor.send(hello);
      await shown(hello);
      assert.equal((await tones()).length, before, '"none" is silent');

      await saveSound('pop');
      await page.locator('.sound-toggle').click();
      assert.equal(await page.locator('.sound-toggle').getAttribute('aria-pressed'), 'false');
      const anyone = unique('Anyone there?');
      await visitor.send(anyone);
      await shown(anyone);
      assert.equal((await tones()).length, before, 'the mute switch still mutes');
      await page.locator('.sound-toggle').click();
    });
  });
});

test('the settings page fits 1366x768 and 1920x1080', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    for (const [width, height] of SIZES) {
      const { page } = keep(await openConsole(browser, env.owner, { viewport: { width, height } }));
      await openWidgetSettings(page);
      const layout = await page.evaluate(() => {
        const rect = (selector) => document.querySelector(selector).getBoundingClientRect();
        return {
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          innerHeight: window.innerHeight,
          saveBar: rect('.save-bar'),
          preview: rect('.widget-preview'),
          form: rect('.widget-form'),
        };
      });
      assert.ok(layout.scrollWidth <= layout.innerWidth, `no horizontal scroll at ${width}`);
      assert.ok(layout.saveBar.bottom <= layout.innerHeight + 1 && layout.saveBar.top < layout.innerHeight, `Save is on screen at ${width}`);
      assert.ok(layout.preview.left >= layout.form.right, `the preview is beside the form at ${width}`);
      await screenshot(page, `console-widget-settings-${width}x${height}.png`);
    }
  });
});

// ---------------------------------------------------------------- visitors

test('a visitor who opens a page shows up live in Visitors, and goes when their socket closes', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner, { hash: '#/visitors' }));
    await page.locator('.visitors-page').waitFor();
    await page.locator('.visitors-body .loading').waitFor({ state: 'detached' });
    const badge = page.locator('.nav-item[data-page="visitors"] .nav-count');
    const countBefore = Number(await badge.textContent());

    const visitor = keep(await Visitor.connect(browser));
    assert.ok(visitor.token && visitor.token.length <= 128, `hello issues a visitor token: ${visitor.token}`);
    const title = unique('Trail Runner 42');
    const url = `${suiteOrigin}/shop/shoes/${encodeURIComponent(title)}?color=black`;
    await visitor.visit(url, title, { startedAt: new Date(Date.now() - 5 * 60_000), pagesSeen: 3 });

    const row = visitorRow(page, visitor.contactId);
    await row.locator('.visitor-page-title', { hasText: title }).waitFor();
    const link = row.locator('a.visitor-page-url');
    assert.equal(await link.getAttribute('href'), url);
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.equal(await link.getAttribute('rel'), 'noopener');
    assert.equal(await link.textContent(), url);
    assert.match(await row.locator('.visitor-duration').textContent(), /^[56] min$/, 'time on the site counts from visit_started_at');
    assert.equal(await row.locator('[data-field="pages"]').textContent(), '3');
    assert.equal(await row.locator('[data-field="tabs"]').textContent(), '1');
    const listed = await apiFromPage(page, 'GET', '/visitors');
    const mine = listed.body.visitors.find((candidate) => candidate.contact_id === visitor.contactId);
    assert.ok(mine, 'GET /visitors lists the visitor');
    assert.equal(await row.locator('.visitor-name').textContent(), mine.name || mine.label, 'the name, or the label when there is none');
    await eventually(async () => Number(await badge.textContent()) === countBefore + 1, { message: 'the sidebar count' });

    await visitor.leave();
    await row.waitFor({ state: 'detached' });
    await eventually(async () => Number(await badge.textContent()) === countBefore, { message: 'the sidebar count going down' });
  });
});

test('a visitor with two tabs open stays listed until the last one closes', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner, { hash: '#/visitors' }));
    const visitor = keep(await Visitor.connect(browser));
    await visitor.visit(`${suiteOrigin}/shop/teas`, 'Teas');
    const row = visitorRow(page, visitor.contactId);
    await row.locator('[data-field="tabs"]', { hasText: '1' }).waitFor();

    const second = await visitor.openTab();
    const hello = await visitor.waitForFrame((frame) => frame.type === 'hello' && frame.tab === second, 'the second tab’s hello');
    assert.equal(hello.contact_id, visitor.contactId, 'the token brings the same contact');
    const title = unique('Oolong');
    await visitor.visit(`${suiteOrigin}/shop/teas/oolong`, title, { tab: second });
    await row.locator('.visitor-page-title', { hasText: title }).waitFor();
    await row.locator('[data-field="tabs"]', { hasText: '2' }).waitFor();
    await row.locator('[data-field="pages"]', { hasText: '2' }).waitFor();

    await visitor.leave(second);
    await row.locator('[data-field="tabs"]', { hasText: '1' }).waitFor();
    assert.equal(await row.count(), 1, 'still on the site with one tab');
    await visitor.leave(0);
    await row.waitFor({ state: 'detached' });
  });
});

test('a visitor whose arrival comes while the list is loading is not lost', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page, context } = keep(await openConsole(browser, env.owner, { hash: '#/visitors' }));
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    // The list is read now, before the visitor comes, and answered only after their frame has arrived.
    await context.route('**/api/v1/visitors', async (route) => {
      const response = await route.fetch();
      await held;
      await route.fulfill({ response });
    });
    const arrived = [];
    page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => {
      if (String(payload).includes('"visitor_online"')) arrived.push(JSON.parse(String(payload)));
    }));
    await page.reload();
    await page.locator('.visitors-body .loading').waitFor();
    await page.locator('.connection-status.is-online').waitFor();

    const visitor = keep(await Visitor.connect(browser));
    const title = unique('Early arrival');
    await visitor.visit(`${suiteOrigin}/shop/early`, title);
    await eventually(() => arrived.some((frame) => frame.visitor?.contact_id === visitor.contactId), { message: 'the visitor_online frame' });
    release();
    await visitorRow(page, visitor.contactId).locator('.visitor-page-title', { hasText: title }).waitFor();
  });
});

test('Start dialog writes to a visitor: their socket receives it and the dialog opens in the inbox', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const { page } = keep(await openConsole(browser, env.owner, { hash: '#/visitors' }));
    const visitor = keep(await Visitor.connect(browser));
    await visitor.visit(`${suiteOrigin}/shop/jackets/green`, 'Green jacket');
    const row = visitorRow(page, visitor.contactId);
    await row.waitFor();
    const shownAs = await row.locator('.visitor-name').textContent();
    await row.locator('[data-action="start-dialog"]').click();
    const text = unique('Hello! Can I help you find your size?');
    const composer = row.locator('.inline-composer textarea');
    await composer.fill(text);
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.url().endsWith(`/api/v1/contacts/${visitor.contactId}/messages`)),
      composer.press('Enter'),
    ]);
    assert.equal(response.status(), 201, await response.text());
    const sent = JSON.parse(response.request().postData());
    assert.ok(sent.client_message_id && sent.client_message_id.length <= 64, 'a client_message_id goes with it');
    const { dialog } = await response.json();
    // The dialog's address, with the inbox's list after it once the console has shown it.
    await page.waitForURL(new RegExp(`#/dialogs/${dialog.id}(\\?|$)`));
    await page.locator('.msg-out .msg-text', { hasText: text }).waitFor();
    assert.equal(await page.locator('.conv-name').textContent(), shownAs, 'the visitor has the same name in the inbox as on the visitors page');
    const received = await visitor.receives(text);
    assert.equal(received.author_kind, 'manager');
    assert.equal(received.dialog_id, dialog.id);
  });
});

test('the visitors page fits 1366x768 and 1920x1080', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (keep) => {
    const anna = keep(await Visitor.connect(browser));
    const identified = await anna.identify({ name: 'Anna Petrova', email: `${unique('anna').toLowerCase()}@example.com` });
    assert.equal(identified.type, 'identified', JSON.stringify(identified));
    await anna.visit(`${suiteOrigin}/shop/shoes/trail-runner-42?color=black&size=42`, 'Trail Runner 42 — Black | Example Shop', { startedAt: new Date(Date.now() - 754_000), pagesSeen: 7 });
    const guest = keep(await Visitor.connect(browser));
    await guest.visit(`${suiteOrigin}/shop/`, 'Example Shop — shoes and clothes', { startedAt: new Date(Date.now() - 42_000) });
    for (const [width, height] of SIZES) {
      const { page } = keep(await openConsole(browser, env.owner, { viewport: { width, height }, hash: '#/visitors' }));
      await visitorRow(page, anna.contactId).locator('.visitor-name', { hasText: 'Anna Petrova' }).waitFor();
      await visitorRow(page, guest.contactId).waitFor();
      const layout = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        buttons: [...document.querySelectorAll('[data-action="start-dialog"]')].map((button) => button.getBoundingClientRect().right <= window.innerWidth),
      }));
      assert.ok(layout.scrollWidth <= layout.innerWidth, `no horizontal scroll at ${width}`);
      assert.ok(layout.buttons.length >= 2 && layout.buttons.every(Boolean), `every Start dialog is on screen at ${width}`);
      await screenshot(page, `console-visitors-${width}x${height}.png`);
    }
  });
});
