// Settings → Notifications: my own e-mail while I am away from the
// console, saved as I flip it; for owners, the name the shop's e-mails come
// from, their reply address and the shop's site, and the shop's own SMTP
// server.

import { h, setChildren } from '../dom.js';
import * as api from '../api.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { spinner, emptyState, pageHeader, field, showFormErrors, whileBusy, settingsCard } from './common.js';
import { sendingServerCard } from './settings-sending-server.js';
import { desktopState, allowDesktop, turnDesktopOff } from '../attention.js';
import { pushSupported, pushSubscribed, enablePush, disablePush } from '../push.js';

export function mountNotificationsPage(container, scope) {
  const body = h('div', { class: 'page-body settings-stack' });
  container.append(pageHeader('Notifications', 'How you hear about visitors\u2019 messages while the console is closed.'), body);
  setChildren(body, spinner('Loading notification settings…'));
  const manager = store.session.peek().manager;
  const isOwner = manager?.role === 'owner';
  let gone = false;
  scope.onDispose(() => { gone = true; });
  Promise.all([api.getNotificationPreferences(), isOwner ? api.getAccountMail() : null, isOwner ? api.getAccountSmtp() : null])
    .then(([preferences, mail, server]) => {
      if (gone) return;
      setChildren(body, preferencesCard(preferences), isOwner ? accountMailCard(mail) : null, isOwner ? sendingServerCard(server) : null);
    })
    .catch((error) => gone || setChildren(body, emptyState('alert', 'Notification settings did not load', describeError(error))));
}

function switchRow(name, title, sub, checked, onchange) {
  const input = h('input', { type: 'checkbox', name, role: 'switch', class: 'switch-input', checked });
  input.addEventListener('change', () => onchange(input));
  return h('label', { class: 'switch-row' },
    h('span', { class: 'switch-text' }, h('span', { class: 'switch-title' }, title), h('span', { class: 'switch-sub' }, sub)),
    h('span', { class: 'switch' }, input, h('span', { class: 'switch-track', 'aria-hidden': 'true' }, h('span', { class: 'switch-thumb' }))),
  );
}

function preferencesCard(preferences) {
  const address = preferences.email_address || store.session.peek().manager?.email || '';
  const failure = h('div', { class: 'form-error', role: 'alert' }, preferences.last_failure ? `The last e-mail to you failed: ${preferences.last_failure}` : '');
  const save = async (input, patch) => {
    input.disabled = true;
    try {
      const saved = await api.setNotificationPreferences(patch);
      input.checked = saved[Object.keys(patch)[0]];
      store.notify('Notification settings saved.', 'success');
    } catch (error) {
      input.checked = !input.checked;
      store.notify(describeError(error));
    } finally {
      input.disabled = false;
    }
  };
  return settingsCard('While I am away', 'When no console of yours is open on any device.',
    h('div', { class: 'field' }, switchRow('email', 'E-mail me new messages', `To ${address}. Messages that come together make one e-mail; what you read meanwhile is left out.`, preferences.email,
      (input) => save(input, { email: input.checked }))),
    h('div', { class: 'field' }, pushRow()),
    h('div', { class: 'field' }, desktopRow()),
    failure,
  );
}

/** Browser push to this computer, while no console is open. */
function pushRow() {
  const row = h('div', { class: 'switch-row desktop-row' });
  const render = async () => {
    const supported = pushSupported();
    const on = supported && (await pushSubscribed().catch(() => false));
    const sub = !supported
      ? 'This browser does not take push notifications.'
      : on
        ? 'On: while no console of yours is open, a visitor’s message shows on this computer.'
        : 'While no console of yours is open, a visitor’s message shows on this computer.';
    const toggle = async (button, change, done) => {
      button.disabled = true;
      try {
        await change();
        store.notify(done, 'success');
      } catch (error) {
        store.notify(error?.message && !error.status ? error.message : describeError(error));
      }
      render();
    };
    const action = !supported
      ? null
      : on
        ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'push-off' }, onclick: (event) => toggle(event.currentTarget, disablePush, 'Push is off on this computer.') }, 'Turn off')
        : h('button', { type: 'button', class: 'btn btn-primary btn-small', dataset: { action: 'push-on' }, onclick: (event) => toggle(event.currentTarget, enablePush, 'Push is on for this computer.') }, 'Turn on');
    setChildren(row, h('span', { class: 'switch-text' }, h('span', { class: 'switch-title' }, 'Push to this computer'), h('span', { class: 'switch-sub' }, sub)), action);
  };
  render();
  return row;
}

/** Desktop notifications on this computer, while the console is in a background tab. */
function desktopRow() {
  const row = h('div', { class: 'switch-row desktop-row' });
  const render = () => {
    const state = desktopState();
    const sub = {
      granted: 'On: a visitor’s message shows on this computer while the console is in a background tab.',
      off: 'Off on this computer.',
      default: 'A visitor’s message shows on this computer while the console is in a background tab.',
      denied: 'Your browser blocks them for this site: allow notifications in its site settings.',
      unsupported: 'This browser does not show desktop notifications.',
    }[state];
    const action = {
      granted: h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'desktop-off' }, onclick: () => { turnDesktopOff(); render(); } }, 'Turn off'),
      off: h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'desktop-on' }, onclick: async () => { await allowDesktop(); render(); } }, 'Turn on'),
      default: h('button', { type: 'button', class: 'btn btn-primary btn-small', dataset: { action: 'desktop-on' }, onclick: async () => { await allowDesktop(); render(); } }, 'Allow'),
    }[state] || null;
    setChildren(row, h('span', { class: 'switch-text' }, h('span', { class: 'switch-title' }, 'Desktop notifications'), h('span', { class: 'switch-sub' }, sub)), action);
  };
  render();
  return row;
}

function accountMailCard(mail) {
  const senderName = field('Sender name', h('input', { type: 'text', name: 'sender_name', maxlength: 100, value: mail.sender_name, placeholder: 'The shop\u2019s name' }), {
    hint: 'The name the shop\u2019s e-mails come from. Empty: the shop\u2019s name.',
  });
  const replyTo = field('Reply address', h('input', { type: 'email', name: 'reply_to', value: mail.reply_to, placeholder: 'help@your-shop.example' }), {
    hint: 'Where answers to the shop\u2019s e-mails go. Empty: none.',
  });
  const shopUrl = field('Shop\u2019s site', h('input', { type: 'url', name: 'shop_url', value: mail.shop_url, placeholder: 'https://your-shop.example/' }), {
    hint: 'E-mails to visitors link back to it, to answer in the chat.',
  });
  const formError = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save');
  const form = h('form', { class: 'form', novalidate: true }, senderName.element, replyTo.element, shopUrl.element, formError, h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    formError.textContent = '';
    const fields = [senderName, replyTo, shopUrl];
    try {
      await whileBusy(submit, api.setAccountMail({ sender_name: senderName.input.value, reply_to: replyTo.input.value, shop_url: shopUrl.input.value }));
      for (const entry of fields) entry.setError('');
      store.notify('E-mail signature saved.', 'success');
    } catch (error) {
      showFormErrors(error, { sender_name: senderName, reply_to: replyTo, shop_url: shopUrl }, formError, describeError);
    }
  });
  return settingsCard('The shop\u2019s e-mails', 'Owners only: how e-mails to managers and visitors are signed.', form);
}
