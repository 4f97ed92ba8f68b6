// Settings → Messengers: connect the shop's Telegram bot (owners and admins),
// and see every messenger's health (everyone), so a broken one shows before
// anyone writes into it. VK and Facebook come next. Tokens go in and never
// come back.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as api from '../api.js';
import { describeError } from '../api.js';
import * as store from '../store.js';
import { confirmAction, openModal, field, showFormErrors, whileBusy, spinner, emptyState, timeAgo, pageHeader } from './common.js';
import { canManageTeam } from './settings.js';

/** How often the page asks for the messengers' health again. */
const REFRESH_MS = 15000;

const CHANNELS = [
  {
    channel: 'telegram',
    name: 'Telegram',
    text: 'People write to your bot; their messages arrive here beside the site chat, and your answers go back through the bot.',
    howTo: 'In Telegram, open @BotFather, send /newbot (or /token for an existing bot) and paste the token it gives.',
  },
  { channel: 'vk', name: 'VK', text: 'Messages to your community.', soon: true },
  { channel: 'facebook', name: 'Facebook Messenger', text: 'Messages to your page.', soon: true },
];

export function mountIntegrationsPage(container, scope) {
  const body = h('div', { class: 'page-body' });
  container.append(pageHeader('Messengers', 'Talk with people through their messengers in the same inbox as the site chat.'), body);
  let state = { loading: true, items: [], error: null };
  const render = () => renderPage(body, state, load);
  async function load() {
    try {
      const answer = await api.listIntegrations({ background: state.items.length > 0 });
      state = { loading: false, items: answer.integrations, error: null };
    } catch (error) {
      state = { ...state, loading: false, error: describeError(error) };
    }
    render();
  }
  render();
  load();
  const timer = setInterval(load, REFRESH_MS);
  scope.onDispose(() => clearInterval(timer));
}

function renderPage(body, state, reload) {
  if (state.loading) return setChildren(body, spinner('Loading messengers…'));
  if (state.error && state.items.length === 0) return setChildren(body, emptyState('alert', 'Messengers did not load', state.error));
  const admin = canManageTeam(store.session.value.manager);
  setChildren(
    body,
    h('div', { class: 'card-list' },
      CHANNELS.map((spec) => integrationCard(spec, state.items.find((i) => i.channel === spec.channel), admin, reload)),
    ),
  );
}

function integrationCard(spec, integration, admin, reload) {
  const actions = [];
  if (spec.soon) actions.push(h('span', { class: 'chip chip-muted' }, 'Coming soon'));
  else if (admin && integration) {
    actions.push(
      h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'reconnect' }, onclick: () => connect(spec, reload) }, icon('key'), 'New token'),
      h('button', { type: 'button', class: 'btn btn-ghost btn-small is-danger', dataset: { action: 'disconnect' }, onclick: () => disconnect(spec, reload) }, 'Disconnect'),
    );
  } else if (admin) {
    actions.push(h('button', { type: 'button', class: 'btn btn-primary btn-small', dataset: { action: 'connect' }, onclick: () => connect(spec, reload) }, icon('plus'), 'Connect'));
  } else if (!integration) {
    actions.push(h('span', { class: 'field-hint' }, 'An owner or admin connects it.'));
  }
  return h('article', { class: ['session-card', 'integration-card'], dataset: { channel: spec.channel } },
    h('span', { class: 'session-icon' }, icon('chat')),
    h('div', { class: 'session-main' },
      h('div', { class: 'session-device' }, spec.name, integration ? h('span', { class: 'integration-name' }, integration.name) : null, integration ? healthChip(integration.health) : null),
      h('div', { class: 'session-meta' }, integration ? describeHealth(integration) : spec.text),
    ),
    h('div', { class: 'template-card-actions' }, actions),
  );
}

/** The health as a chip: Working, or what is wrong. */
export function healthChip(health) {
  const [label, kind] = health.healthy ? ['Working', 'chip-open']
    : !health.token_valid ? ['Token refused', 'chip-danger']
    : !health.receiving ? ['Not receiving', 'chip-danger']
    : ['Error', 'chip-danger'];
  return h('span', { class: ['chip', kind], dataset: { health: health.healthy ? 'healthy' : 'unhealthy' } }, label);
}

function describeHealth(integration) {
  const health = integration.health;
  const parts = [integration.mode === 'webhook' ? 'Webhook' : 'Long polling'];
  parts.push(health.last_update_at ? ['last message ', timeAgo(health.last_update_at, { long: true })] : 'no message yet');
  if (health.last_error) parts.push(['last error ', timeAgo(health.last_error_at, { long: true }), ': ', h('span', { class: 'integration-error' }, health.last_error)]);
  return parts.flatMap((part, index) => (index ? [' · ', part] : [part])).flat();
}

function connect(spec, reload) {
  return openModal({
    title: `Connect ${spec.name}`,
    build: (close) => {
      const token = field('Bot token', h('input', { type: 'password', name: 'bot_token', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: '123456789:AA…' }), { hint: spec.howTo });
      const formError = h('div', { class: 'form-error', role: 'alert' });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Connect');
      const form = h('form', { class: 'form', novalidate: true }, token.element, formError,
        h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => close() }, 'Cancel'), save));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const value = token.input.value.trim();
        token.setError(value ? '' : 'Paste the token from @BotFather.');
        if (!value) return;
        try {
          await whileBusy(save, api.connectIntegration(spec.channel, { bot_token: value }));
          close(true);
          reload();
          // A poller takes a new bot within seconds: show it receiving then.
          setTimeout(reload, 4000);
        } catch (error) {
          showFormErrors(error, { bot_token: token }, formError, describeError);
        }
      });
      return form;
    },
  });
}

async function disconnect(spec, reload) {
  const confirmed = await confirmAction({
    title: `Disconnect ${spec.name}?`,
    text: 'Nothing more arrives from it, and answers cannot go out through it. Its dialogs stay.',
    confirmLabel: 'Disconnect',
    danger: true,
  });
  if (!confirmed) return;
  try {
    await api.disconnectIntegration(spec.channel);
  } catch (error) {
    await confirmAction({ title: `${spec.name} was not disconnected`, text: describeError(error), confirmLabel: 'OK' });
  }
  reload();
}
