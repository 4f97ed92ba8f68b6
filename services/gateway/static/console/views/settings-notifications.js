// Settings → Notifications: my own e-mail while I am away from the
// console, saved as I flip it; for owners, the name the shop's e-mails come
// from, their reply address and the shop's site.

import { h, setChildren } from '../dom.js';
import * as api from '../api.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { spinner, emptyState, pageHeader, field, showFormErrors, whileBusy } from './common.js';

export function mountNotificationsPage(container, scope) {
  const body = h('div', { class: 'page-body settings-stack' });
  container.append(pageHeader('Notifications', 'How you hear about visitors\u2019 messages while the console is closed.'), body);
  setChildren(body, spinner('Loading notification settings…'));
  const manager = store.session.peek().manager;
  const isOwner = manager?.role === 'owner';
  let gone = false;
  scope.onDispose(() => { gone = true; });
  Promise.all([api.getNotificationPreferences(), isOwner ? api.getAccountMail() : null])
    .then(([preferences, mail]) => {
      if (gone) return;
      setChildren(body, preferencesCard(preferences), isOwner ? accountMailCard(mail) : null);
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

function card(title, description, ...children) {
  return h('section', { class: 'settings-card' },
    h('header', { class: 'settings-card-header' }, h('h2', {}, title), description ? h('p', {}, description) : null),
    h('div', { class: 'settings-card-body' }, children),
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
  return card('While I am away', 'When no console of yours is open on any device.',
    h('div', { class: 'field' }, switchRow('email', 'E-mail me new messages', `To ${address}. Messages that come together make one e-mail; what you read meanwhile is left out.`, preferences.email,
      (input) => save(input, { email: input.checked }))),
    failure,
  );
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
  return card('The shop\u2019s e-mails', 'Owners only: how e-mails to managers and visitors are signed.', form);
}
