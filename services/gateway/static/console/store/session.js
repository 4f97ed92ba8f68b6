// The session: who is signed in (GET /me at start-up, login, logout, a
// session that ended), what is loaded at sign-in and forgotten at sign-out,
// this manager's language and this browser's sound, and what each route
// loads.

import { signal, batch } from '../signals.js';
import * as api from '../api.js';
import { loadSoundPreference, saveSoundPreference } from '../sound.js';
import { route, showList } from '../router.js';
import * as i18n from '../i18n.js';
import { socket } from './socket.js';
import { clearSendTimers, outbox } from './sending.js';
import { forgetUploads } from './uploads.js';
import { managers, templates, sessions, widgetSettings, emptyWidgetSettings, loadManagers, loadWidgetSettings } from './settings.js';
import { counts, filter, dialogs, dialogList, refreshCounts, loadDialogList, setFilter, forgetUnknownDialogFetches } from './dialogs.js';
import { thread, emptyThread, openDialog, forgetReadMarkers } from './thread.js';
import { contacts, timeline, emptyTimeline, contactDialogs, search, openContact } from './contacts.js';
import { visitors, emptyVisitors, loadVisitors, abandonVisitorsLoad } from './visitors.js';

/** phase: starting | signed_out | signed_in | ended | unreachable */
export const session = signal({ phase: 'starting', manager: null });
export const soundOn = signal(loadSoundPreference());

export function me() {
  return session.peek().manager;
}

export function myId() {
  return session.peek().manager?.id ?? null;
}

// ---------------------------------------------------------------- session

/** At start-up: GET /me decides between the inbox and the login screen. */
export async function start() {
  api.setSessionEndedHandler(sessionEnded);
  try {
    signIn(await api.me());
  } catch (error) {
    if (error.status === 401) session.value = { phase: 'signed_out', manager: null };
    else session.value = { phase: 'unreachable', manager: null, message: api.describeError(error) };
  }
}

export async function login(email, password, accountId = undefined) {
  const answer = await api.login(email, password, accountId);
  signIn({ ...answer.manager, csrf_token: answer.csrf_token });
}

function signIn({ csrf_token: csrfToken, ...manager }) {
  api.setCsrfToken(csrfToken);
  // The language they chose, wherever they chose it; else this browser's.
  if (manager.language && manager.language !== i18n.language.peek()) i18n.setLanguage(manager.language);
  session.value = { phase: 'signed_in', manager };
  loadManagers();
  refreshCounts();
  loadDialogList();
  loadWidgetSettings();
  loadVisitors();
  socket.start();
  followRoute(route.peek());
}

export async function logout() {
  try {
    await api.logout();
  } catch {
    // Signed out locally all the same.
  }
  socket.stop();
  resetState();
  session.value = { phase: 'signed_out', manager: null };
}

/** Any 401 after sign-in, or the socket closing with 4401. */
export function sessionEnded() {
  if (session.peek().phase !== 'signed_in') return;
  socket.stop();
  clearSendTimers();
  session.value = { phase: 'ended', manager: session.peek().manager };
}

export function signInAgain() {
  resetState();
  session.value = { phase: 'signed_out', manager: null };
}

export async function checkSessionStillValid() {
  try {
    const answer = await api.me({ background: true });
    api.setCsrfToken(answer.csrf_token);
  } catch (error) {
    if (error.status === 401) sessionEnded();
  }
}

function resetState() {
  batch(() => {
    managers.value = [];
    counts.value = null;
    dialogs.value = new Map();
    dialogList.value = { ids: [], nextCursor: null, loading: false, loaded: false, error: null };
    thread.value = emptyThread(null);
    outbox.value = new Map();
    contacts.value = new Map();
    timeline.value = emptyTimeline(null, '');
    contactDialogs.value = { contactId: null, items: [], loading: false };
    search.value = { open: false, query: '', results: [], loading: false, error: null };
    templates.value = { items: [], loaded: false, loading: false, error: null };
    sessions.value = { items: [], loaded: false, loading: false, error: null };
    widgetSettings.value = emptyWidgetSettings();
    visitors.value = emptyVisitors();
  });
  abandonVisitorsLoad();
  forgetReadMarkers();
  forgetUnknownDialogFetches();
  forgetUploads();
}

export function acceptInvitation(token, password) {
  return api.acceptInvitation(token, password);
}

export function requestPasswordReset(email) {
  return api.requestPasswordReset(email);
}

export function confirmPasswordReset(token, password) {
  return api.confirmPasswordReset(token, password);
}

/** The console's language for this manager (null: the browser's), here at once and kept for their next sign-in. */
export async function setLanguage(code) {
  i18n.setLanguage(code);
  const updated = await api.changeMe({ language: code });
  session.update((current) => ({ ...current, manager: { ...current.manager, language: updated.language } }));
}

export function setSound(on) {
  soundOn.value = on;
  saveSoundPreference(on);
}

// ---------------------------------------------------------------- routes

/** Loads what the current route shows; called by main.js on every route change. */
export function followRoute(current) {
  if (session.peek().phase !== 'signed_in') return;
  // A list named by the address (a reload, a shared link) is the one shown.
  const shown = filter.peek();
  const named = current.list;
  if (named && (named.category !== shown.category || named.status !== shown.status || named.managerId !== shown.managerId)) {
    setFilter(named);
  } else if (current.name === 'inbox' || current.name === 'dialog') {
    showList(shown);
  }
  if (current.name === 'dialog') {
    if (thread.peek().dialogId !== current.id) openDialog(current.id);
  } else if (thread.peek().dialogId) {
    thread.value = emptyThread(null);
  }
  if (current.name === 'contact') openContact(current.id);
}
