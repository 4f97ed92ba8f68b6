// The account's settings, each behind a Settings page: the managers (also
// the team the assign menu and presence show), templates, sessions, blocked
// visitors, the messengers' health, and the widget settings (whose
// manager_sound is the console's sound).

import { signal } from '../signals.js';
import * as api from '../api.js';
import * as i18n from '../i18n.js';
import { notify, notifyError } from './toasts.js';
import { session, myId } from './session.js';

export const managers = signal([]);
export const templates = signal({ items: [], loaded: false, loading: false, error: null });
/** The account's messengers and their health, for the composer's warning. */
export const integrations = signal({ items: [], loadedAt: 0 });
export const sessions = signal({ items: [], loaded: false, loading: false, error: null });
/** The account's widget settings (Settings → Online consultant); its manager_sound is the console's sound. */
export const widgetSettings = signal(emptyWidgetSettings());

export function emptyWidgetSettings() {
  return { settings: null, loaded: false, loading: false, error: null };
}

// ---------------------------------------------------------------- managers

export async function loadManagers() {
  try {
    const { managers: list } = await api.listManagers();
    managers.value = list;
  } catch (error) {
    notifyError(error);
  }
}

export function managerById(id) {
  return managers.peek().find((manager) => manager.id === id) || null;
}

/** Throws ApiError for the form; answers { manager, invitation_url }. */
export async function inviteManager(fields) {
  const answer = await api.createManager(fields);
  managers.update((list) => [...list, answer.manager]);
  return answer;
}

/** Throws ApiError for the form. */
export async function updateManager(id, patch) {
  const updated = await api.updateManager(id, patch);
  managers.update((list) => list.map((manager) => (manager.id === id ? updated : manager)));
  if (id === myId()) session.update((current) => ({ ...current, manager: { ...current.manager, ...updated } }));
  return updated;
}

// ---------------------------------------------------------------- templates

function sortByName(items) {
  return [...items].sort((a, b) => a.name.localeCompare(b.name));
}

export async function loadTemplates() {
  templates.update((current) => ({ ...current, loading: true, error: null }));
  try {
    const answer = await api.listTemplates();
    templates.value = { items: sortByName(answer.templates), loaded: true, loading: false, error: null };
  } catch (error) {
    templates.update((current) => ({ ...current, loading: false, error: api.describeError(error) }));
  }
}

/** Throws ApiError (422/409 with fields) for the form. */
export async function saveTemplate(id, fields) {
  const saved = id ? await api.updateTemplate(id, fields) : await api.createTemplate(fields);
  templates.update((current) => ({ ...current, items: sortByName([...current.items.filter((item) => item.id !== saved.id), saved]) }));
  return saved;
}

export async function deleteTemplate(id) {
  try {
    await api.deleteTemplate(id);
  } catch (error) {
    if (error.status !== 404) {
      notifyError(error);
      return;
    }
  }
  templates.update((current) => ({ ...current, items: current.items.filter((item) => item.id !== id) }));
}

// ---------------------------------------------------------------- sessions (settings)

export async function loadSessions() {
  sessions.update((current) => ({ ...current, loading: true, error: null }));
  try {
    const answer = await api.listSessions();
    sessions.value = { items: answer.sessions, loaded: true, loading: false, error: null };
  } catch (error) {
    sessions.update((current) => ({ ...current, loading: false, error: api.describeError(error) }));
  }
}

export async function endSession(id) {
  try {
    await api.endSession(id);
    sessions.update((current) => ({ ...current, items: current.items.filter((item) => item.id !== id) }));
  } catch (error) {
    notifyError(error);
  }
}

export async function endOtherSessions() {
  try {
    await api.endOtherSessions();
    sessions.update((current) => ({ ...current, items: current.items.filter((item) => item.current) }));
    notify(i18n.t('store.sessions_ended'), 'success');
  } catch (error) {
    notifyError(error);
  }
}

// ---------------------------------------------------------------- blocked visitors

export const blocks = signal({ items: [], loaded: false, loading: false, error: null });

export async function loadBlocks() {
  blocks.update((current) => ({ ...current, loading: true, error: null }));
  try {
    const answer = await api.listBlocks();
    blocks.value = { items: answer.blocks, loaded: true, loading: false, error: null };
  } catch (error) {
    blocks.update((current) => ({ ...current, loading: false, error: api.describeError(error) }));
  }
}

/** Blocks the visitor of a contact: their widget closes and stays closed. */
export async function blockContact(contactId) {
  try {
    await api.blockContact(contactId);
    notify(i18n.t('store.blocked'), 'success');
    return true;
  } catch (error) {
    notifyError(error);
    return false;
  }
}

export async function liftBlock(blockId) {
  try {
    await api.liftBlock(blockId);
    blocks.update((current) => ({ ...current, items: current.items.filter((item) => item.id !== blockId) }));
  } catch (error) {
    notifyError(error);
  }
}

// ---------------------------------------------------------------- messengers

/** How long the messengers' health is trusted before the composer asks again. */
const INTEGRATIONS_FRESH_MS = 30000;
/** As long, while one is unhealthy: its warning goes soon after it recovers. */
const UNHEALTHY_FRESH_MS = 5000;
let integrationsLoading = null;

/** The messengers' health as just read elsewhere (Settings): the composer warns by it at once. */
export function knowIntegrations(items) {
  integrations.value = { items, loadedAt: Date.now() };
}

/** The messengers' health, asked again when older than half a minute (five seconds while one is unhealthy). */
export function loadIntegrations() {
  const { items, loadedAt } = integrations.peek();
  const fresh = items.some((item) => !item.health.healthy) ? UNHEALTHY_FRESH_MS : INTEGRATIONS_FRESH_MS;
  if (Date.now() - loadedAt < fresh) return Promise.resolve();
  integrationsLoading ??= api
    .listIntegrations({ background: true })
    .then((answer) => knowIntegrations(answer.integrations))
    // Not now: asked again once the freshness has passed, not at every change.
    .catch(() => { integrations.value = { ...integrations.peek(), loadedAt: Date.now() }; })
    .finally(() => { integrationsLoading = null; });
  return integrationsLoading;
}

// ---------------------------------------------------------------- widget settings

export function managerSound() {
  return widgetSettings.peek().settings?.manager_sound ?? 'chime';
}

export async function loadWidgetSettings() {
  widgetSettings.update((current) => ({ ...current, loading: true, error: null }));
  try {
    widgetSettingsArrived(await api.getWidgetSettings({ background: true }));
  } catch (error) {
    widgetSettings.update((current) => ({ ...current, loading: false, error: api.describeError(error) }));
  }
}

/**
 * Settings from a REST answer or a widget_settings frame. Whichever comes
 * second may be the older (a GET answered before a save it crossed): the
 * newer updated_at wins. A frame goes to every manager and may leave the
 * identity secret out: the one we hold stays.
 */
export function widgetSettingsArrived(settings) {
  const current = widgetSettings.peek().settings;
  if (current?.updated_at && settings.updated_at && settings.updated_at < current.updated_at) return;
  const merged = current && !('identity_secret' in settings) && 'identity_secret' in current
    ? { ...settings, identity_secret: current.identity_secret }
    : settings;
  widgetSettings.value = { settings: merged, loaded: true, loading: false, error: null };
}

/** PUT of every editable field; answers the saved settings. Throws ApiError (422 with fields) for the form. */
export async function saveWidgetSettings(body) {
  const saved = await api.saveWidgetSettings(body);
  widgetSettingsArrived(saved);
  return saved;
}

/** Which of urls would show the widget under the unsaved patterns. Throws ApiError. */
export function previewHiddenPages(patterns, urls) {
  return api.previewHiddenPages(patterns, urls);
}

/** A new identity secret (the old one stops verifying at once); answers the settings. */
export async function newIdentitySecret() {
  const settings = await api.newIdentitySecret();
  widgetSettingsArrived(settings);
  return settings;
}
