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
import { t } from '../i18n.js';

export function mountNotificationsPage(container, scope) {
  const body = h('div', { class: 'page-body settings-stack' });
  container.append(pageHeader(t('settings.notifications'), t('settings_notifications.description')), body);
  setChildren(body, spinner(t('settings_notifications.loading')));
  const manager = store.session.peek().manager;
  const isOwner = manager?.role === 'owner';
  let gone = false;
  scope.onDispose(() => { gone = true; });
  Promise.all([api.getNotificationPreferences(), isOwner ? api.getAccountMail() : null, isOwner ? api.getAccountSmtp() : null])
    .then(([preferences, mail, server]) => {
      if (gone) return;
      setChildren(body, preferencesCard(preferences), isOwner ? accountMailCard(mail) : null, isOwner ? sendingServerCard(server) : null);
    })
    .catch((error) => gone || setChildren(body, emptyState('alert', t('settings_notifications.load_failed'), describeError(error))));
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
  const failure = h('div', { class: 'form-error', role: 'alert' }, preferences.last_failure ? t('settings_notifications.last_failure', { error: preferences.last_failure }) : '');
  const save = async (input, patch) => {
    input.disabled = true;
    try {
      const saved = await api.setNotificationPreferences(patch);
      input.checked = saved[Object.keys(patch)[0]];
      store.notify(t('settings_notifications.saved'), 'success');
    } catch (error) {
      input.checked = !input.checked;
      store.notify(describeError(error));
    } finally {
      input.disabled = false;
    }
  };
  return settingsCard(t('settings_notifications.away_title'), t('settings_notifications.away_text'),
    h('div', { class: 'field' }, switchRow('email', t('settings_notifications.email_title'), t('settings_notifications.email_text', { address }), preferences.email,
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
      ? t('push.unsupported')
      : on
        ? t('settings_notifications.push_on')
        : t('settings_notifications.push_off');
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
        ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'push-off' }, onclick: (event) => toggle(event.currentTarget, disablePush, t('settings_notifications.push_turned_off')) }, t('settings_notifications.turn_off'))
        : h('button', { type: 'button', class: 'btn btn-primary btn-small', dataset: { action: 'push-on' }, onclick: (event) => toggle(event.currentTarget, enablePush, t('settings_notifications.push_turned_on')) }, t('settings_notifications.turn_on'));
    setChildren(row, h('span', { class: 'switch-text' }, h('span', { class: 'switch-title' }, t('settings_notifications.push_title')), h('span', { class: 'switch-sub' }, sub)), action);
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
      granted: t('settings_notifications.desktop_on'),
      off: t('settings_notifications.desktop_off'),
      default: t('settings_notifications.desktop_default'),
      denied: t('settings_notifications.desktop_denied'),
      unsupported: t('settings_notifications.desktop_unsupported'),
    }[state];
    const action = {
      granted: h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'desktop-off' }, onclick: () => { turnDesktopOff(); render(); } }, t('settings_notifications.turn_off')),
      off: h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'desktop-on' }, onclick: async () => { await allowDesktop(); render(); } }, t('settings_notifications.turn_on')),
      default: h('button', { type: 'button', class: 'btn btn-primary btn-small', dataset: { action: 'desktop-on' }, onclick: async () => { await allowDesktop(); render(); } }, t('settings_notifications.allow')),
    }[state] || null;
    setChildren(row, h('span', { class: 'switch-text' }, h('span', { class: 'switch-title' }, t('settings_notifications.desktop_title')), h('span', { class: 'switch-sub' }, sub)), action);
  };
  render();
  return row;
}

function accountMailCard(mail) {
  const senderName = field(t('settings_notifications.sender_name'), h('input', { type: 'text', name: 'sender_name', maxlength: 100, value: mail.sender_name, placeholder: t('settings_notifications.sender_name_placeholder') }), {
    hint: t('settings_notifications.sender_name_hint'),
  });
  const replyTo = field(t('settings_notifications.reply_to'), h('input', { type: 'email', name: 'reply_to', value: mail.reply_to, placeholder: 'help@your-shop.example' }), {
    hint: t('settings_notifications.reply_to_hint'),
  });
  const shopUrl = field(t('settings_notifications.shop_url'), h('input', { type: 'url', name: 'shop_url', value: mail.shop_url, placeholder: 'https://your-shop.example/' }), {
    hint: t('settings_notifications.shop_url_hint'),
  });
  const formError = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('settings_widget.save'));
  const form = h('form', { class: 'form', novalidate: true }, senderName.element, replyTo.element, shopUrl.element, formError, h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    formError.textContent = '';
    const fields = [senderName, replyTo, shopUrl];
    try {
      await whileBusy(submit, api.setAccountMail({ sender_name: senderName.input.value, reply_to: replyTo.input.value, shop_url: shopUrl.input.value }));
      for (const entry of fields) entry.setError('');
      store.notify(t('settings_notifications.mail_saved'), 'success');
    } catch (error) {
      showFormErrors(error, { sender_name: senderName, reply_to: replyTo, shop_url: shopUrl }, formError, describeError);
    }
  });
  return settingsCard(t('settings_notifications.mail_title'), t('settings_notifications.mail_text'), form);
}
