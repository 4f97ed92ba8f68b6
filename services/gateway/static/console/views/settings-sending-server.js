// Settings → Notifications → Sending server (owners): the shop's own SMTP
// server, which its e-mails to customers leave by. Saving checks the server
// (it connects and signs in) before keeping it; the password is never shown
// again, and left empty it stays as kept.

import { h, setChildren } from '../dom.js';
import * as api from '../api.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { icon } from '../icons.js';
import { field, showFormErrors, whileBusy, settingsCard, confirmAction, timeAgo } from './common.js';
import { t } from '../i18n.js';

/** The security a port usually speaks, for a new server. */
const SECURITY_OF_PORT = { 465: 'tls', 587: 'starttls', 25: 'starttls', 2525: 'starttls' };

export function sendingServerCard(server) {
  const slot = h('div', {});
  const show = (node) => setChildren(slot, node);
  const render = (current) => show(current.configured ? serverView(current, render, show) : offView(render, show));
  render(server);
  return settingsCard(t('settings_sending_server.title'), t('settings_sending_server.description'), slot);
}

/** The words of key with nodes (or text) in place of their {placeholders}. */
function withNodes(key, nodes) {
  return t(key).split(/\{(\w+)\}/).map((part, index) => (index % 2 ? nodes[part] ?? `{${part}}` : part)).filter((part) => part !== '');
}

function offView(render, show) {
  return h('div', { class: 'field' }, h('div', { class: 'switch-row desktop-row' },
    h('span', { class: 'switch-text' },
      h('span', { class: 'switch-title' }, t('settings_sending_server.ours_title')),
      h('span', { class: 'switch-sub' }, t('settings_sending_server.ours_text'))),
    h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'smtp-set-up' }, onclick: () => show(serverForm(null, render)) }, t('settings_sending_server.use_mine'))));
}

function serverView(server, render, show) {
  const failure = server.last_error
    ? h('div', { class: 'notice is-warning', dataset: { role: 'smtp-failure' } }, icon('alert'),
      h('span', {}, withNodes('settings_sending_server.last_failure', { time: timeAgo(server.last_error_at, { long: true }), error: server.last_error })))
    : null;
  const security = { starttls: 'STARTTLS', tls: 'TLS', none: t('settings_sending_server.no_tls') }[server.security] || server.security;
  const remove = async (button) => {
    const confirmed = await confirmAction({
      title: t('settings_sending_server.stop_title'),
      text: t('settings_sending_server.stop_text'),
      confirmLabel: t('settings_sending_server.use_ours'),
      danger: true,
    });
    if (!confirmed) return;
    try {
      render(await whileBusy(button, api.removeAccountSmtp().then(() => ({ configured: false }))));
      store.notify(t('settings_sending_server.stopped'), 'success');
    } catch (error) {
      store.notify(describeError(error));
    }
  };
  return h('div', { dataset: { role: 'smtp-server' } },
    failure,
    h('div', { class: 'field' }, h('div', { class: 'switch-row desktop-row' },
      h('span', { class: 'switch-text' },
        h('span', { class: 'switch-title' }, t('settings_sending_server.from', { address: server.from_address })),
        h('span', { class: 'switch-sub mono' }, `${server.host}:${server.port} \u00b7 ${security}${server.username ? ` \u00b7 ${t('settings_sending_server.signs_in_as', { user: server.username })}` : ''}`)),
      h('span', { class: 'row-buttons' },
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'smtp-edit' }, onclick: () => show(serverForm(server, render)) }, t('settings_sending_server.change')),
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'smtp-remove' }, onclick: (event) => remove(event.currentTarget) }, t('settings_sending_server.use_ours'))))),
  );
}

function serverForm(server, render) {
  const host = field(t('settings_sending_server.host'), h('input', { type: 'text', name: 'host', value: server?.host || '', placeholder: 'smtp.your-shop.example', autocomplete: 'off', spellcheck: false }));
  const port = field(t('settings_sending_server.port'), h('input', { type: 'text', name: 'port', inputmode: 'numeric', value: String(server?.port || 587) }));
  const securitySelect = h('select', { name: 'security' },
    h('option', { value: 'starttls' }, 'STARTTLS (587, 25)'),
    h('option', { value: 'tls' }, 'TLS (465)'),
    h('option', { value: 'none' }, t('settings_sending_server.security_none')));
  securitySelect.value = server?.security || 'starttls';
  port.input.addEventListener('change', () => {
    const usual = SECURITY_OF_PORT[port.input.value.trim()];
    if (usual && !server) securitySelect.value = usual;
  });
  const security = field(t('settings_sending_server.security'), securitySelect);
  const username = field(t('settings_sending_server.user'), h('input', { type: 'text', name: 'username', value: server?.username || '', autocomplete: 'off', spellcheck: false }), {
    hint: t('settings_sending_server.user_hint'),
  });
  const password = field(t('login.password'), h('input', { type: 'password', name: 'password', autocomplete: 'new-password', placeholder: server?.password_set ? t('settings_sending_server.unchanged') : '' }), {
    hint: server?.password_set ? t('settings_sending_server.password_keep_hint') : t('settings_sending_server.password_new_hint'),
  });
  const fromAddress = field(t('settings_sending_server.from_address'), h('input', { type: 'email', name: 'from_address', value: server?.from_address || '', placeholder: 'support@your-shop.example' }), {
    hint: t('settings_sending_server.from_address_hint'),
  });
  const formError = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('settings_sending_server.check_and_save'));
  const cancel = h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => render(server || { configured: false }) }, t('common.cancel'));
  const form = h('form', { class: 'form', novalidate: true, dataset: { role: 'smtp-form' } },
    h('div', { class: 'form-row' }, host.element, port.element),
    security.element,
    h('div', { class: 'form-row' }, username.element, password.element),
    fromAddress.element,
    formError,
    h('div', { class: 'form-actions' }, cancel, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    formError.textContent = '';
    const fields = { host, port, security, username, password, from_address: fromAddress };
    const portNumber = Number(port.input.value.trim());
    if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
      showFormErrors({ fields: { port: t('settings_sending_server.port_range') } }, fields, formError, describeError);
      return;
    }
    const body = {
      host: host.input.value.trim(),
      port: portNumber,
      security: securitySelect.value,
      username: username.input.value.trim(),
      from_address: fromAddress.input.value.trim(),
    };
    if (password.input.value) body.password = password.input.value;
    try {
      const saved = await whileBusy(submit, api.setAccountSmtp(body));
      render(saved);
      store.notify(t('settings_sending_server.saved'), 'success');
    } catch (error) {
      showFormErrors(error, fields, formError, describeError);
    }
  });
  return form;
}
