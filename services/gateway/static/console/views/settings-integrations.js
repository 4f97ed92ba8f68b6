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
import { t } from '../i18n.js';

/** How often the page asks for the messengers' health again. */
const REFRESH_MS = 15000;

/**
 * The messengers and what connecting each asks for, in the manager's
 * language. A field's placeholder is words to translate, its `example` a
 * value shown as it is. A field marked `webhookOnly` is asked only where the
 * suite has a public address (the platform then sends messages to it).
 */
const channels = () => [
  {
    channel: 'telegram',
    name: t('channels.telegram'),
    text: t('settings_integrations.telegram_text'),
    renewLabel: t('settings_integrations.new_token'),
    fields: [
      { name: 'bot_token', label: t('settings_integrations.bot_token'), secret: true, example: '123456789:AA…', missing: t('settings_integrations.bot_token_missing'),
        hint: t('settings_integrations.bot_token_hint') },
    ],
  },
  {
    channel: 'vk',
    name: t('channels.vk'),
    text: t('settings_integrations.vk_text'),
    renewLabel: t('settings_integrations.new_settings'),
    fields: [
      { name: 'group_id', label: t('settings_integrations.group_id'), example: '123456789', missing: t('settings_integrations.group_id_missing'),
        hint: t('settings_integrations.group_id_hint') },
      { name: 'access_token', label: t('settings_integrations.access_token'), secret: true, example: 'vk1.a.…', missing: t('settings_integrations.access_token_missing'),
        hint: t('settings_integrations.access_token_hint') },
      { name: 'confirmation', label: t('settings_integrations.confirmation'), webhookOnly: true, example: 'a1b2c3d4', missing: t('settings_integrations.confirmation_missing'),
        hint: t('settings_integrations.confirmation_hint') },
      { name: 'secret', label: t('settings_integrations.secret'), secret: true, webhookOnly: true, placeholder: t('settings_integrations.secret_placeholder'), missing: t('settings_integrations.secret_missing'),
        hint: t('settings_integrations.secret_hint') },
    ],
    pollingNote: t('settings_integrations.vk_polling_note'),
    addressNote: t('settings_integrations.vk_address_note'),
  },
  {
    channel: 'facebook',
    name: t('settings_integrations.facebook_messenger'),
    text: t('settings_integrations.facebook_text'),
    renewLabel: t('settings_integrations.new_settings'),
    webhooksOnly: t('settings_integrations.facebook_webhooks_only'),
    fields: [
      { name: 'page_id', label: t('settings_integrations.page_id'), example: '104200300400', missing: t('settings_integrations.page_id_missing'),
        hint: t('settings_integrations.page_id_hint') },
      { name: 'page_access_token', label: t('settings_integrations.page_access_token'), secret: true, example: 'EAAB…', missing: t('settings_integrations.page_access_token_missing'),
        hint: t('settings_integrations.page_access_token_hint') },
      { name: 'app_secret', label: t('settings_integrations.app_secret'), secret: true, example: 'a1b2c3…', missing: t('settings_integrations.app_secret_missing'),
        hint: t('settings_integrations.app_secret_hint') },
      { name: 'verify_token', label: t('settings_integrations.verify_token'), placeholder: t('settings_integrations.verify_token_placeholder'), missing: t('settings_integrations.verify_token_missing'),
        hint: t('settings_integrations.verify_token_hint') },
    ],
    addressNote: t('settings_integrations.facebook_address_note'),
  },
];

/** The words of key with nodes (or text) in place of their {placeholders}. */
function withNodes(key, nodes) {
  return t(key).split(/\{(\w+)\}/).map((part, index) => (index % 2 ? nodes[part] ?? `{${part}}` : part)).filter((part) => part !== '');
}

export function mountIntegrationsPage(container, scope) {
  const body = h('div', { class: 'page-body' });
  container.append(pageHeader(t('settings.integrations'), t('settings_integrations.description')), body);
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
  if (state.loading) return setChildren(body, spinner(t('settings_integrations.loading')));
  if (state.error && state.items.length === 0) return setChildren(body, emptyState('alert', t('settings_integrations.load_failed'), state.error));
  const admin = canManageTeam(store.session.value.manager);
  setChildren(
    body,
    h('div', { class: 'card-list' },
      channels().map((spec) => integrationCard({ ...spec, unavailable: Boolean(spec.webhooksOnly) && !state.webhooks }, state.items.find((i) => i.channel === spec.channel), admin, () => connect(spec, state.webhooks, reload), reload)),
    ),
  );
}

function integrationCard(spec, integration, admin, openConnect, reload) {
  const actions = [];
  if (spec.unavailable && !integration) actions.push(h('span', { class: 'chip chip-muted' }, t('settings_integrations.needs_public_address')));
  else if (admin && integration) {
    actions.push(
      h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'reconnect' }, onclick: openConnect }, icon('key'), spec.renewLabel),
      h('button', { type: 'button', class: 'btn btn-ghost btn-small is-danger', dataset: { action: 'disconnect' }, onclick: () => disconnect(spec, reload) }, t('settings_integrations.disconnect')),
    );
  } else if (admin) {
    actions.push(h('button', { type: 'button', class: 'btn btn-primary btn-small', dataset: { action: 'connect' }, onclick: openConnect }, icon('plus'), t('settings_integrations.connect')));
  } else if (!integration) {
    actions.push(h('span', { class: 'field-hint' }, t('settings_integrations.admin_connects')));
  }
  return h('article', { class: ['session-card', 'integration-card'], dataset: { channel: spec.channel } },
    h('span', { class: ['session-icon', `is-${spec.channel}`] }, icon(spec.channel)),
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
  const [label, kind] = health.healthy ? [t('settings_integrations.working'), 'chip-open']
    : !health.token_valid ? [t('settings_integrations.token_refused'), 'chip-danger']
    : !health.receiving ? [t('settings_integrations.not_receiving'), 'chip-danger']
    : [t('settings_integrations.error'), 'chip-danger'];
  return h('span', { class: ['chip', kind], dataset: { health: health.healthy ? 'healthy' : 'unhealthy' } }, label);
}

/** Where the platform must send messages: the admin pastes it on VK's or Meta's page. */
function callbackAddress(spec, integration) {
  const address = h('code', {}, integration.address);
  const copy = h('button', { type: 'button', class: 'btn btn-ghost btn-small', dataset: { action: 'copy-address' } }, t('settings.copy'));
  copy.onclick = async () => {
    try {
      // Only where the page is a secure context (HTTPS or localhost).
      await navigator.clipboard.writeText(integration.address);
      copy.textContent = t('settings.copied');
    } catch {
      // Selected instead, for the admin to copy with the keyboard.
      getSelection().selectAllChildren(address);
      copy.textContent = t('settings_integrations.selected');
    }
    setTimeout(() => { copy.textContent = t('settings.copy'); }, 2500);
  };
  const waiting = !integration.health.receiving;
  return h('div', { class: 'integration-address' },
    h('span', {}, waiting ? spec.addressNote : t('settings_integrations.sends_to', { name: spec.name })),
    address, copy);
}

function describeHealth(integration) {
  const health = integration.health;
  const parts = [integration.mode === 'webhook' ? t('settings_integrations.webhook') : t('settings_integrations.long_polling')];
  if (integration.address && !health.receiving) parts.push(t('settings_integrations.waiting_confirmation'));
  parts.push(health.last_update_at
    ? withNodes('settings_integrations.last_message', { time: timeAgo(health.last_update_at, { long: true }) })
    : t('settings_integrations.no_message'));
  if (health.last_error) parts.push(withNodes('settings_integrations.last_error', { time: timeAgo(health.last_error_at, { long: true }), error: h('span', { class: 'integration-error' }, health.last_error) }));
  return parts.flatMap((part, index) => (index ? [' · ', part] : [part])).flat();
}

/** The connect form: the messenger's fields (with the webhook-only ones where the suite has a public address). */
function connect(spec, webhooks, reload) {
  return openModal({
    title: t('settings_integrations.connect_title', { name: spec.name }),
    build: (close) => {
      const asked = spec.fields.filter((f) => webhooks || !f.webhookOnly);
      const inputs = Object.fromEntries(asked.map((f) => [f.name, field(f.label,
        h('input', { type: f.secret ? 'password' : 'text', name: f.name, required: true, autocomplete: 'off', spellcheck: 'false', placeholder: f.placeholder ?? f.example }),
        { hint: f.hint })]));
      const note = !webhooks && spec.pollingNote ? h('p', { class: 'field-hint' }, spec.pollingNote) : null;
      const formError = h('div', { class: 'form-error', role: 'alert' });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('settings_integrations.connect'));
      const form = h('form', { class: 'form', novalidate: true }, Object.values(inputs).map((i) => i.element), note, formError,
        h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => close() }, t('common.cancel')), save));
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
    title: t('settings_integrations.disconnect_title', { name: spec.name }),
    text: t('settings_integrations.disconnect_text'),
    confirmLabel: t('settings_integrations.disconnect'),
    danger: true,
  });
  if (!confirmed) return;
  try {
    await api.disconnectIntegration(spec.channel);
  } catch (error) {
    await confirmAction({ title: t('settings_integrations.not_disconnected', { name: spec.name }), text: describeError(error), confirmLabel: t('settings_integrations.ok') });
  }
  reload();
}
