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

/** The security a port usually speaks, for a new server. */
const SECURITY_OF_PORT = { 465: 'tls', 587: 'starttls', 25: 'starttls', 2525: 'starttls' };

export function sendingServerCard(server) {
  const slot = h('div', {});
  const show = (node) => setChildren(slot, node);
  const render = (current) => show(current.configured ? serverView(current, render, show) : offView(render, show));
  render(server);
  return settingsCard('Sending server', 'Owners only: send the shop\u2019s e-mails to customers through your own mail server, from your own address. Alerts to managers and sign-in e-mails keep to ours.', slot);
}

function offView(render, show) {
  return h('div', { class: 'field' }, h('div', { class: 'switch-row desktop-row' },
    h('span', { class: 'switch-text' },
      h('span', { class: 'switch-title' }, 'Our server sends'),
      h('span', { class: 'switch-sub' }, 'Replies to customers come from our address with your shop\u2019s name. Use your own server so that they come from your domain.')),
    h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'smtp-set-up' }, onclick: () => show(serverForm(null, render)) }, 'Use my server')));
}

function serverView(server, render, show) {
  const failure = server.last_error
    ? h('div', { class: 'notice is-warning', dataset: { role: 'smtp-failure' } }, icon('alert'),
      h('span', {}, 'The last e-mail through it failed ', timeAgo(server.last_error_at, { long: true }), `: ${server.last_error}. It is tried again.`))
    : null;
  const security = { starttls: 'STARTTLS', tls: 'TLS', none: 'no TLS' }[server.security] || server.security;
  const remove = async (button) => {
    const confirmed = await confirmAction({
      title: 'Stop using your server?',
      text: 'E-mails to customers will come from our server again, with your shop\u2019s name. The saved password is deleted.',
      confirmLabel: 'Use ours',
      danger: true,
    });
    if (!confirmed) return;
    try {
      render(await whileBusy(button, api.removeAccountSmtp().then(() => ({ configured: false }))));
      store.notify('E-mails to customers leave by our server again.', 'success');
    } catch (error) {
      store.notify(describeError(error));
    }
  };
  return h('div', { dataset: { role: 'smtp-server' } },
    failure,
    h('div', { class: 'field' }, h('div', { class: 'switch-row desktop-row' },
      h('span', { class: 'switch-text' },
        h('span', { class: 'switch-title' }, `From ${server.from_address}`),
        h('span', { class: 'switch-sub mono' }, `${server.host}:${server.port} \u00b7 ${security}${server.username ? ` \u00b7 signs in as ${server.username}` : ''}`)),
      h('span', { class: 'row-buttons' },
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'smtp-edit' }, onclick: () => show(serverForm(server, render)) }, 'Change'),
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'smtp-remove' }, onclick: (event) => remove(event.currentTarget) }, 'Use ours')))),
  );
}

function serverForm(server, render) {
  const host = field('Host', h('input', { type: 'text', name: 'host', value: server?.host || '', placeholder: 'smtp.your-shop.example', autocomplete: 'off', spellcheck: false }));
  const port = field('Port', h('input', { type: 'text', name: 'port', inputmode: 'numeric', value: String(server?.port || 587) }));
  const securitySelect = h('select', { name: 'security' },
    h('option', { value: 'starttls' }, 'STARTTLS (587, 25)'),
    h('option', { value: 'tls' }, 'TLS (465)'),
    h('option', { value: 'none' }, 'None (local servers only)'));
  securitySelect.value = server?.security || 'starttls';
  port.input.addEventListener('change', () => {
    const usual = SECURITY_OF_PORT[port.input.value.trim()];
    if (usual && !server) securitySelect.value = usual;
  });
  const security = field('Security', securitySelect);
  const username = field('User', h('input', { type: 'text', name: 'username', value: server?.username || '', autocomplete: 'off', spellcheck: false }), {
    hint: 'Empty if the server takes mail without signing in.',
  });
  const password = field('Password', h('input', { type: 'password', name: 'password', autocomplete: 'new-password', placeholder: server?.password_set ? 'Unchanged' : '' }), {
    hint: server?.password_set ? 'Leave empty to keep the saved one (for the same host and user).' : 'Kept encrypted, never shown again.',
  });
  const fromAddress = field('From address', h('input', { type: 'email', name: 'from_address', value: server?.from_address || '', placeholder: 'support@your-shop.example' }), {
    hint: 'Your server must be allowed to send from it.',
  });
  const formError = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Check and save');
  const cancel = h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => render(server || { configured: false }) }, 'Cancel');
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
      showFormErrors({ fields: { port: 'must be a number from 1 to 65535' } }, fields, formError, describeError);
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
      store.notify('Your server answered and is saved: e-mails to customers leave by it.', 'success');
    } catch (error) {
      showFormErrors(error, fields, formError, describeError);
    }
  });
  return form;
}
