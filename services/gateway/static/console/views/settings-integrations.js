// Settings → Messengers: connect the shop's Telegram bot, VK community and
// Facebook page (owners and admins), and see every messenger's health
// (everyone), so a broken one shows before anyone writes into it. Tokens go
// in and never come back.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as api from '../api.js';
import { describeError } from '../api.js';
import * as store from '../store.js';
import { confirmAction, openModal, field, showFormErrors, whileBusy, spinner, emptyState, timeAgo, pageHeader } from './common.js';
import { canManageTeam } from './settings.js';

/** How often the page asks for the messengers' health again. */
const REFRESH_MS = 15000;

/**
 * The messengers and what connecting each asks for. A field marked
 * `webhookOnly` is asked only where the suite has a public address (the
 * platform then sends messages to it).
 */
const CHANNELS = [
  {
    channel: 'telegram',
    name: 'Telegram',
    text: 'People write to your bot; their messages arrive here beside the site chat, and your answers go back through the bot.',
    renewLabel: 'New token',
    fields: [
      { name: 'bot_token', label: 'Bot token', secret: true, placeholder: '123456789:AA…', missing: 'Paste the token from @BotFather.',
        hint: 'In Telegram, open @BotFather, send /newbot (or /token for an existing bot) and paste the token it gives.' },
    ],
  },
  {
    channel: 'vk',
    name: 'VK',
    text: 'People write to your community; their messages arrive here, and your answers go back from the community.',
    renewLabel: 'New settings',
    fields: [
      { name: 'group_id', label: 'Community number', placeholder: '123456789', missing: 'Give the community’s number.',
        hint: 'From the community’s address: vk.com/club123456789 is 123456789 (the whole address will do).' },
      { name: 'access_token', label: 'Access token', secret: true, placeholder: 'vk1.a.…', missing: 'Paste the community’s access token.',
        hint: 'In the community: Manage → API usage → Access tokens → Create token, with access to messages.' },
      { name: 'confirmation', label: 'Confirmation string', webhookOnly: true, placeholder: 'a1b2c3d4', missing: 'Copy the string from VK’s Callback API page.',
        hint: 'Manage → API usage → Callback API: the “String to be returned”.' },
      { name: 'secret', label: 'Secret key', secret: true, webhookOnly: true, placeholder: 'Latin letters and digits', missing: 'Set a secret key on VK’s Callback API page and give it here.',
        hint: 'Set it on the same Callback API page (up to 50 Latin letters and digits).' },
    ],
    pollingNote: 'In the community: Manage → API usage → Long Poll API: turn it on, and tick “Incoming messages” under Event types.',
    addressNote: 'Paste this address on VK’s Callback API page and press Confirm:',
  },
  {
    channel: 'facebook',
    name: 'Facebook Messenger',
    text: 'People write to your page in Messenger; their messages arrive here, and your answers go back from the page (within 7 days of their last message, as Facebook allows).',
    renewLabel: 'New settings',
    webhooksOnly: 'Facebook reaches the chat only at a public address, which this installation has not (BRIDGE_PUBLIC_URL).',
    fields: [
      { name: 'page_id', label: 'Page ID', placeholder: '104200300400', missing: 'Give the page’s ID.',
        hint: 'On the page: About → Page transparency, or in Meta’s dashboard.' },
      { name: 'page_access_token', label: 'Page access token', secret: true, placeholder: 'EAAB…', missing: 'Paste the page’s access token.',
        hint: 'Meta for Developers → your app → Messenger → Messenger API settings → Generate token.' },
      { name: 'app_secret', label: 'App secret', secret: true, placeholder: 'a1b2c3…', missing: 'Paste the app’s secret.',
        hint: 'App settings → Basic → App secret: it signs every message Facebook sends.' },
      { name: 'verify_token', label: 'Verify token', placeholder: 'any word you choose', missing: 'Choose a verify token.',
        hint: 'Any word: give Meta the same one beside the callback address.' },
    ],
    addressNote: 'In Meta’s dashboard, Messenger → Webhooks, give this Callback URL with your verify token, and subscribe the page to “messages”:',
  },
];

export function mountIntegrationsPage(container, scope) {
  const body = h('div', { class: 'page-body' });
  container.append(pageHeader('Messengers', 'Talk with people through their messengers in the same inbox as the site chat.'), body);
  let state = { loading: true, items: [], webhooks: false, error: null };
  const render = () => renderPage(body, state, load);
  async function load() {
    try {
      const answer = await api.listIntegrations({ background: state.items.length > 0 });
      state = { loading: false, items: answer.integrations, webhooks: answer.webhooks, error: null };
      store.knowIntegrations(answer.integrations);
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
      CHANNELS.map((spec) => integrationCard({ ...spec, unavailable: Boolean(spec.webhooksOnly) && !state.webhooks }, state.items.find((i) => i.channel === spec.channel), admin, () => connect(spec, state.webhooks, reload), reload)),
    ),
  );
}

function integrationCard(spec, integration, admin, openConnect, reload) {
  const actions = [];
  if (spec.unavailable && !integration) actions.push(h('span', { class: 'chip chip-muted' }, 'Needs a public address'));
  else if (admin && integration) {
    actions.push(
      h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'reconnect' }, onclick: openConnect }, icon('key'), spec.renewLabel),
      h('button', { type: 'button', class: 'btn btn-ghost btn-small is-danger', dataset: { action: 'disconnect' }, onclick: () => disconnect(spec, reload) }, 'Disconnect'),
    );
  } else if (admin) {
    actions.push(h('button', { type: 'button', class: 'btn btn-primary btn-small', dataset: { action: 'connect' }, onclick: openConnect }, icon('plus'), 'Connect'));
  } else if (!integration) {
    actions.push(h('span', { class: 'field-hint' }, 'An owner or admin connects it.'));
  }
  return h('article', { class: ['session-card', 'integration-card'], dataset: { channel: spec.channel } },
    h('span', { class: 'session-icon' }, icon('chat')),
    h('div', { class: 'session-main' },
      h('div', { class: 'session-device' }, spec.name, integration ? h('span', { class: 'integration-name' }, integration.name) : null, integration ? healthChip(integration.health) : null),
      h('div', { class: 'session-meta' }, integration ? describeHealth(integration) : spec.unavailable ? spec.webhooksOnly : spec.text),
      integration?.address ? callbackAddress(spec, integration) : null,
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

/** Where the platform must send messages: the admin pastes it on VK's or Meta's page. */
function callbackAddress(spec, integration) {
  const address = h('code', {}, integration.address);
  const copy = h('button', { type: 'button', class: 'btn btn-ghost btn-small', dataset: { action: 'copy-address' } }, 'Copy');
  copy.onclick = async () => {
    try {
      // Only where the page is a secure context (HTTPS or localhost).
      await navigator.clipboard.writeText(integration.address);
      copy.textContent = 'Copied';
    } catch {
      // Selected instead, for the admin to copy with the keyboard.
      getSelection().selectAllChildren(address);
      copy.textContent = 'Selected: copy it';
    }
    setTimeout(() => { copy.textContent = 'Copy'; }, 2500);
  };
  const waiting = !integration.health.receiving;
  return h('div', { class: 'integration-address' },
    h('span', {}, waiting ? spec.addressNote : `${spec.name} sends messages to`),
    address, copy);
}

function describeHealth(integration) {
  const health = integration.health;
  const parts = [integration.mode === 'webhook' ? 'Webhook' : 'Long polling'];
  if (integration.address && !health.receiving) parts.push('waiting for the platform to confirm the address');
  parts.push(health.last_update_at ? ['last message ', timeAgo(health.last_update_at, { long: true })] : 'no message yet');
  if (health.last_error) parts.push(['last error ', timeAgo(health.last_error_at, { long: true }), ': ', h('span', { class: 'integration-error' }, health.last_error)]);
  return parts.flatMap((part, index) => (index ? [' · ', part] : [part])).flat();
}

/** The connect form: the messenger's fields (with the webhook-only ones where the suite has a public address). */
function connect(spec, webhooks, reload) {
  return openModal({
    title: `Connect ${spec.name}`,
    build: (close) => {
      const asked = spec.fields.filter((f) => webhooks || !f.webhookOnly);
      const inputs = Object.fromEntries(asked.map((f) => [f.name, field(f.label,
        h('input', { type: f.secret ? 'password' : 'text', name: f.name, required: true, autocomplete: 'off', spellcheck: 'false', placeholder: f.placeholder }),
        { hint: f.hint })]));
      const note = !webhooks && spec.pollingNote ? h('p', { class: 'field-hint' }, spec.pollingNote) : null;
      const formError = h('div', { class: 'form-error', role: 'alert' });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Connect');
      const form = h('form', { class: 'form', novalidate: true }, Object.values(inputs).map((i) => i.element), note, formError,
        h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => close() }, 'Cancel'), save));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const values = {};
        let missing = false;
        for (const f of asked) {
          values[f.name] = inputs[f.name].input.value.trim();
          inputs[f.name].setError(values[f.name] ? '' : f.missing);
          missing ||= !values[f.name];
        }
        if (missing) return;
        try {
          await whileBusy(save, api.connectIntegration(spec.channel, values));
          close(true);
          reload();
          // A poller takes a new integration within seconds: show it receiving then.
          setTimeout(reload, 4000);
        } catch (error) {
          showFormErrors(error, inputs, formError, describeError);
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
