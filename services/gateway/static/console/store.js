// The console's one store: state as signals, the actions that change it, and
// the table that turns each socket frame into an action. Views only read the
// signals and call the exported actions.

import { signal, batch } from './signals.js';
import * as api from './api.js';
import { ManagerSocket } from './socket.js';
import { playSound, loadSoundPreference, saveSoundPreference } from './sound.js';
import { newClientMessageId } from './format.js';
import { route, navigate, paths, showList } from './router.js';
import * as i18n from './i18n.js';

const LIST_PAGE_SIZE = 50;
const HISTORY_PAGE_SIZE = 50;
const TIMELINE_PAGE_SIZE = 30;
const SEND_TIMEOUT_MS = 15_000;
const SEND_AUTO_RETRY_DELAYS_MS = [2_000, 5_000];
const TOAST_MS = 5_000;
const FILTER_STORAGE_KEY = 'console.filter';

// ---------------------------------------------------------------- state

/** phase: starting | signed_out | signed_in | ended | unreachable */
export const session = signal({ phase: 'starting', manager: null });
/** idle | connecting | online | reconnecting | stopped */
export const connection = signal('idle');
export const managers = signal([]);
/** { mine, all, new, managers: { [managerId]: n } } for filter.status, or null */
export const counts = signal(null);
/** { category: mine|all|new|manager, managerId, status: open|closed } */
export const filter = signal(route.peek().list || loadFilter());
/** Every dialog the console knows, by id. */
export const dialogs = signal(new Map());
/** The ids shown in the middle column, in order. */
export const dialogList = signal({ ids: [], nextCursor: null, loading: false, loaded: false, error: null });
/** The open dialog's history: messages by seq and notes. */
export const thread = signal(emptyThread(null));
/** Messages and notes on their way to the server, by client id. */
export const outbox = signal(new Map());
export const contacts = signal(new Map());
export const timeline = signal(emptyTimeline(null, ''));
export const contactDialogs = signal({ contactId: null, items: [], loading: false });
export const search = signal({ open: false, query: '', results: [], loading: false, error: null });
export const templates = signal({ items: [], loaded: false, loading: false, error: null });
/** The account's messengers and their health, for the composer's warning. */
export const integrations = signal({ items: [], loadedAt: 0 });
export const sessions = signal({ items: [], loaded: false, loading: false, error: null });
export const soundOn = signal(loadSoundPreference());
/** The account's widget settings (Settings → Online consultant); its manager_sound is the console's sound. */
export const widgetSettings = signal(emptyWidgetSettings());
/** Who has a page with the widget open now, by contact id (GET /visitors, then the socket). */
export const visitors = signal(emptyVisitors());
export const toasts = signal([]);
/** Which tab the contact panel shows: details | timeline */
export const contactPanelTab = signal('details');

export { route };

function emptyThread(dialogId) {
  return { dialogId, messages: [], notes: [], hasMore: false, loading: Boolean(dialogId), loadingOlder: false, error: null };
}

function emptyWidgetSettings() {
  return { settings: null, loaded: false, loading: false, error: null };
}

function emptyVisitors() {
  return { byId: new Map(), loaded: false, loading: false, error: null };
}

function emptyTimeline(contactId, kind) {
  return { contactId, kind, events: [], nextCursor: null, loading: Boolean(contactId), error: null };
}

export function me() {
  return session.peek().manager;
}

function myId() {
  return session.peek().manager?.id ?? null;
}

// ---------------------------------------------------------------- toasts

let toastSequence = 0;

export function notify(text, kind = 'error') {
  const id = ++toastSequence;
  toasts.update((list) => [...list, { id, text, kind }]);
  setTimeout(() => dismissToast(id), TOAST_MS);
}

export function dismissToast(id) {
  toasts.update((list) => list.filter((toast) => toast.id !== id));
}

function notifyError(error) {
  if (error?.status === 401) return; // the session-ended screen says it
  notify(api.describeError(error));
}

// ---------------------------------------------------------------- session

const socket = new ManagerSocket({
  onFrame: (frame) => handleFrame(frame),
  onState: (state) => {
    connection.value = state;
  },
  onOpened: (isReconnect) => {
    if (isReconnect) resync();
  },
  onSessionEnded: () => sessionEnded(),
  onConnectFailed: () => checkSessionStillValid(),
});

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
  for (const timer of sendTimers.values()) clearTimeout(timer);
  session.value = { phase: 'ended', manager: session.peek().manager };
}

export function signInAgain() {
  resetState();
  session.value = { phase: 'signed_out', manager: null };
}

async function checkSessionStillValid() {
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
  visitorsGeneration++;
  pendingVisitorChanges = null;
  lastReadSent.clear();
  unknownDialogFetches.clear();
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

// ---------------------------------------------------------------- managers and counts

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

let countsRequest = 0;

export async function refreshCounts() {
  const request = ++countsRequest;
  const status = filter.peek().status;
  try {
    const answer = await api.dialogCounts(status);
    if (request !== countsRequest) return;
    const byManager = {};
    for (const entry of answer.managers || []) byManager[entry.manager_id] = entry.count;
    counts.value = { mine: answer.mine, all: answer.all, new: answer.new, managers: byManager, status };
  } catch (error) {
    notifyError(error);
  }
}

/** Moves the counts by what changed between two versions of a dialog. */
function adjustCounts(before, after) {
  const current = counts.peek();
  if (!current) return;
  const next = { ...current, managers: { ...current.managers } };
  const apply = (dialog, sign) => {
    if (!dialog || dialog.status !== current.status) return;
    next.all += sign;
    if (!dialog.manager_id) next.new += sign;
    else next.managers[dialog.manager_id] = (next.managers[dialog.manager_id] || 0) + sign;
    if (dialog.manager_id && dialog.manager_id === myId()) next.mine += sign;
  };
  apply(before, -1);
  apply(after, +1);
  counts.value = next;
}

// ---------------------------------------------------------------- dialog list

function loadFilter() {
  try {
    const saved = JSON.parse(localStorage.getItem(FILTER_STORAGE_KEY) || 'null');
    if (saved && ['mine', 'all', 'new', 'manager'].includes(saved.category) && ['open', 'closed'].includes(saved.status)) return saved;
  } catch {
    // Fall back to the default below.
  }
  return { category: 'mine', managerId: null, status: 'open' };
}

export function setFilter(patch) {
  const next = { ...filter.peek(), ...patch };
  if (next.category !== 'manager') next.managerId = null;
  const statusChanged = next.status !== filter.peek().status;
  filter.value = next;
  showList(next);
  try {
    localStorage.setItem(FILTER_STORAGE_KEY, JSON.stringify(next));
  } catch {
    // Not remembered; fine.
  }
  if (statusChanged) refreshCounts();
  closeSearch();
  loadDialogList();
}

function listParameters(current, cursor) {
  return {
    category: current.category,
    manager_id: current.category === 'manager' ? current.managerId : undefined,
    status: current.status,
    limit: LIST_PAGE_SIZE,
    cursor,
  };
}

export function matchesFilter(dialog, current = filter.peek()) {
  if (dialog.status !== current.status) return false;
  switch (current.category) {
    case 'mine':
      return Boolean(dialog.manager_id) && dialog.manager_id === myId();
    case 'new':
      return !dialog.manager_id;
    case 'manager':
      return dialog.manager_id === current.managerId;
    default:
      return true;
  }
}

function activityTime(dialog) {
  return Date.parse(dialog.last_message_at || dialog.created_at) || 0;
}

// Socket events that arrive while a page of the list is loading wait here
// and are replayed on top of the page (like Phoenix presence's pendingDiffs).
let listLoadGeneration = 0;
let pendingListChanges = null;
let touchedWhileLoading = new Set();

function whenListReady(change) {
  if (pendingListChanges) pendingListChanges.push(change);
  else change();
}

/** Loads the first page of the list; refresh: keep showing the current rows meanwhile (resync). */
export async function loadDialogList({ refresh = false } = {}) {
  const generation = ++listLoadGeneration;
  pendingListChanges = [];
  touchedWhileLoading = new Set();
  if (refresh) dialogList.update((list) => ({ ...list, loading: true, error: null }));
  else dialogList.update((list) => ({ ...list, ids: [], nextCursor: null, loading: true, loaded: false, error: null }));
  try {
    const page = await api.listDialogs(listParameters(filter.peek()));
    if (generation !== listLoadGeneration) return;
    batch(() => {
      rememberDialogsFromPage(page.dialogs);
      dialogList.value = { ids: page.dialogs.map((dialog) => dialog.id), nextCursor: page.next_cursor, loading: false, loaded: true, error: null };
      replayPendingListChanges();
    });
  } catch (error) {
    if (generation !== listLoadGeneration) return;
    pendingListChanges = null;
    dialogList.update((list) => ({ ...list, loading: false, error: api.describeError(error) }));
  }
}

function replayPendingListChanges() {
  const changes = pendingListChanges || [];
  pendingListChanges = null;
  for (const change of changes) change();
}

export async function loadMoreDialogs() {
  const list = dialogList.peek();
  if (!list.loaded || list.loading || !list.nextCursor) return;
  const generation = listLoadGeneration;
  dialogList.update((current) => ({ ...current, loading: true }));
  try {
    const page = await api.listDialogs(listParameters(filter.peek(), list.nextCursor));
    if (generation !== listLoadGeneration) return;
    batch(() => {
      rememberDialogsFromPage(page.dialogs);
      dialogList.update((current) => {
        const ids = [...current.ids];
        for (const dialog of page.dialogs) if (!ids.includes(dialog.id)) ids.push(dialog.id);
        return { ...current, ids, nextCursor: page.next_cursor, loading: false };
      });
    });
  } catch (error) {
    if (generation !== listLoadGeneration) return;
    dialogList.update((current) => ({ ...current, loading: false, error: api.describeError(error) }));
  }
}

/** Puts dialogs from a page in the map, unless a socket event made ours newer meanwhile. */
function rememberDialogsFromPage(page) {
  const map = new Map(dialogs.peek());
  for (const dialog of page) {
    const known = map.get(dialog.id);
    if (known && touchedWhileLoading.has(dialog.id)) {
      if (known.unread_count === undefined) map.set(dialog.id, { ...known, unread_count: dialog.unread_count, unread_through: dialog.last_seq || 0 });
      continue;
    }
    map.set(dialog.id, { ...dialog, unread_through: dialog.last_seq || 0 });
  }
  dialogs.value = map;
}

/**
 * Stores a dialog from the server or a frame. unread_through is ours: the seq
 * up to which unread_count has counted visitor messages. A REST answer counts
 * up to its last_seq; frames carry no unread_count, so ours is kept (a new
 * dialog from a frame starts at 0, and its first message is counted when it comes).
 */
function storeDialog(dialog) {
  const map = new Map(dialogs.peek());
  const known = map.get(dialog.id);
  const merged = { ...known, ...dialog };
  if (dialog.unread_through !== undefined) merged.unread_through = dialog.unread_through;
  else if (dialog.unread_count !== undefined) merged.unread_through = dialog.last_seq || 0;
  else merged.unread_through = known?.unread_through ?? 0;
  if (dialog.unread_count === undefined) merged.unread_count = known?.unread_count ?? 0;
  map.set(dialog.id, merged);
  dialogs.value = map;
  if (pendingListChanges) touchedWhileLoading.add(dialog.id);
  return { before: known, after: merged };
}

function patchDialog(id, patch) {
  const known = dialogs.peek().get(id);
  if (!known) return;
  const map = new Map(dialogs.peek());
  map.set(id, { ...known, ...patch });
  dialogs.value = map;
}

/** Puts the dialog where it belongs in the shown list, or takes it out. */
function placeInList(dialogId) {
  const list = dialogList.peek();
  if (!list.loaded) return;
  const dialog = dialogs.peek().get(dialogId);
  const wasListed = list.ids.includes(dialogId);
  const ids = list.ids.filter((id) => id !== dialogId);
  if (dialog && matchesFilter(dialog)) {
    const time = activityTime(dialog);
    let index = ids.findIndex((id) => {
      const other = dialogs.peek().get(id);
      return !other || activityTime(other) <= time;
    });
    if (index === -1) index = ids.length;
    // Older than everything loaded while more pages exist: the pages bring it.
    const belongsToLaterPage = index === ids.length && list.nextCursor && !wasListed;
    if (!belongsToLaterPage) ids.splice(index, 0, dialogId);
  }
  const unchanged = ids.length === list.ids.length && ids.every((id, i) => id === list.ids[i]);
  if (!unchanged) dialogList.value = { ...list, ids };
}

/** A dialog as the server now has it (REST answer or frame): map, counts, list. */
function dialogChanged(dialog, { created = false } = {}) {
  const { before, after } = storeDialog(dialog);
  if (before || created) adjustCounts(before, after);
  else scheduleCountsRefresh();
  whenListReady(() => placeInList(dialog.id));
}

let countsRefreshTimer = null;

function scheduleCountsRefresh() {
  clearTimeout(countsRefreshTimer);
  countsRefreshTimer = setTimeout(refreshCounts, 500);
}

const unknownDialogFetches = new Map();

/** A message for a dialog we have never loaded: fetch it once. */
function fetchUnknownDialog(dialogId) {
  if (!unknownDialogFetches.has(dialogId)) {
    const fetching = api
      .getDialog(dialogId, { background: true })
      .then((dialog) => {
        storeDialog(dialog);
        whenListReady(() => placeInList(dialog.id));
        return dialog;
      })
      .catch(() => null);
    unknownDialogFetches.set(dialogId, fetching);
  }
  return unknownDialogFetches.get(dialogId);
}

// ---------------------------------------------------------------- the open dialog

export async function openDialog(dialogId) {
  thread.value = emptyThread(dialogId);
  contactPanelTab.value = 'details';
  try {
    let dialog = dialogs.peek().get(dialogId);
    if (!dialog) {
      dialog = await api.getDialog(dialogId);
      storeDialog(dialog);
    }
    if (thread.peek().dialogId !== dialogId) return;
    loadContact(dialog.contact_id);
    const [page, notes] = await Promise.all([
      api.listMessages(dialogId, { before_seq: (dialog.last_seq || 0) + 1, limit: HISTORY_PAGE_SIZE }),
      api.listNotes(dialogId),
    ]);
    if (thread.peek().dialogId !== dialogId) return;
    thread.update((current) => ({
      ...current,
      messages: mergeMessages(current.messages, page.messages),
      notes: mergeNotes(current.notes, notes.notes),
      hasMore: page.has_more,
      loading: false,
    }));
    await fillGaps(dialogId);
    markDialogRead(dialogId);
  } catch (error) {
    if (thread.peek().dialogId !== dialogId) return;
    thread.update((current) => ({ ...current, loading: false, error: api.describeError(error) }));
  }
}

export async function loadOlderMessages() {
  const current = thread.peek();
  if (!current.dialogId || current.loading || current.loadingOlder || !current.hasMore) return;
  const oldest = current.messages[0]?.seq;
  if (!oldest) return;
  thread.value = { ...current, loadingOlder: true };
  try {
    const page = await api.listMessages(current.dialogId, { before_seq: oldest, limit: HISTORY_PAGE_SIZE });
    if (thread.peek().dialogId !== current.dialogId) return;
    thread.update((now) => ({ ...now, messages: mergeMessages(now.messages, page.messages), hasMore: page.has_more, loadingOlder: false }));
  } catch (error) {
    if (thread.peek().dialogId !== current.dialogId) return;
    thread.update((now) => ({ ...now, loadingOlder: false }));
    notifyError(error);
  }
}

function mergeMessages(existing, incoming) {
  const bySeq = new Map(existing.map((message) => [message.seq, message]));
  for (const message of incoming) {
    // A delivery state, once final, stays: an older copy never undoes it.
    const known = bySeq.get(message.seq);
    const final = known && known.id === message.id && known.delivery_state !== 'stored' && message.delivery_state === 'stored';
    bySeq.set(message.seq, final ? { ...message, delivery_state: known.delivery_state, delivery_error: known.delivery_error } : message);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** A message's delivery state changed (a messenger took or refused it). */
function messageUpdated(message) {
  const current = thread.peek();
  if (current.dialogId === message.dialog_id && current.messages.some((known) => known.id === message.id)) {
    thread.value = { ...current, messages: mergeMessages(current.messages, [message]) };
  }
}

function mergeNotes(existing, incoming) {
  const byId = new Map(existing.map((note) => [note.id, note]));
  for (const note of incoming) byId.set(note.id, note);
  return [...byId.values()].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
}

function highestSeq(current = thread.peek()) {
  return current.messages.length ? current.messages[current.messages.length - 1].seq : 0;
}

let fillingGaps = false;

/** Fetches what is missing between the messages held (a frame may arrive ahead of a page). */
async function fillGaps(dialogId) {
  if (fillingGaps) return;
  fillingGaps = true;
  try {
    for (let round = 0; round < 5; round++) {
      const current = thread.peek();
      if (current.dialogId !== dialogId) return;
      const gapAfter = current.messages.findIndex((message, i) => i + 1 < current.messages.length && current.messages[i + 1].seq !== message.seq + 1);
      if (gapAfter === -1) return;
      const page = await api.listMessages(dialogId, { after_seq: current.messages[gapAfter].seq, limit: 100 }, { background: true });
      if (thread.peek().dialogId !== dialogId) return;
      thread.update((now) => ({ ...now, messages: mergeMessages(now.messages, page.messages) }));
    }
  } catch (error) {
    notifyError(error);
  } finally {
    fillingGaps = false;
  }
}

function isBeingRead(dialogId) {
  return thread.peek().dialogId === dialogId && !thread.peek().loading && document.visibilityState === 'visible';
}

const lastReadSent = new Map();
let readTimer = null;

/** Tells the server the manager has seen the open dialog up to its last message. */
export function markDialogRead(dialogId) {
  clearTimeout(readTimer);
  readTimer = setTimeout(async () => {
    if (!isBeingRead(dialogId)) return;
    const seq = highestSeq();
    if (!seq || (lastReadSent.get(dialogId) || 0) >= seq) return;
    lastReadSent.set(dialogId, seq);
    patchDialog(dialogId, { unread_count: 0 });
    try {
      const answer = await api.markRead(dialogId, seq);
      patchDialog(dialogId, { unread_count: answer.unread_count });
    } catch {
      // A background marker: the next message or visit tries again.
      lastReadSent.delete(dialogId);
    }
  }, 250);
}

document.addEventListener('visibilitychange', () => {
  const dialogId = thread.peek().dialogId;
  if (dialogId && document.visibilityState === 'visible') markDialogRead(dialogId);
});

/** A message from the socket, an ack, a sync or a REST answer. */
function messageArrived(message, { live = true } = {}) {
  const dialogId = message.dialog_id;
  if (thread.peek().dialogId === dialogId) {
    const current = thread.peek();
    thread.value = { ...current, messages: mergeMessages(current.messages, [message]) };
    if (!current.loading && current.messages.length && message.seq > highestSeq(current) + 1) fillGaps(dialogId);
  }
  if (message.client_message_id && outbox.peek().has(message.client_message_id)) removeFromOutbox(message.client_message_id);
  const known = dialogs.peek().get(dialogId);
  if (!known) {
    fetchUnknownDialog(dialogId).then((dialog) => {
      if (dialog && live) maybeChime(message, dialog);
    });
    return;
  }
  applyMessageToDialog(known, message);
  whenListReady(() => placeInList(dialogId));
  if (live) maybeChime(message, known);
  if (message.author_kind === 'visitor' && isBeingRead(dialogId)) markDialogRead(dialogId);
}

/** Preview, time, last seq and unread count of a dialog after one of its messages. */
function applyMessageToDialog(known, message) {
  const patch = {};
  if (message.seq > (known.last_seq || 0)) {
    // Like the server's own preview: system messages ("… closed the dialog") count too.
    patch.last_seq = message.seq;
    patch.last_message_text = message.text;
    patch.last_message_at = message.created_at;
  }
  if (message.author_kind === 'visitor' && message.seq > (known.last_seq || 0) && message.channel) {
    // Replies now go where they last wrote from, and may go through it.
    patch.reply_channel = message.channel;
    if (!(known.channels || []).includes(message.channel)) patch.channels = [...(known.channels || []), message.channel];
  }
  if (message.author_kind === 'visitor' && message.seq > (known.unread_through || 0)) {
    patch.unread_through = message.seq;
    if (!isBeingRead(message.dialog_id)) patch.unread_count = (known.unread_count || 0) + 1;
  }
  if (Object.keys(patch).length > 0) storeDialog({ ...known, ...patch });
}

/**
 * The account's manager sound (widget settings; none is silent), and the
 * desktop notification: for visitor messages in my dialogs and unassigned
 * ones, unless I am reading that dialog.
 */
function maybeChime(message, dialog) {
  if (message.author_kind !== 'visitor') return;
  if (dialog.manager_id && dialog.manager_id !== myId()) return;
  if (isBeingRead(message.dialog_id) && document.hasFocus()) return;
  incomingHandler?.(message, dialog);
  if (soundOn.peek()) playSound(managerSound());
}

let incomingHandler = null;

/** Who hears of a visitor's message in my dialogs and unassigned ones while I am not reading it (desktop notifications). */
export function onIncomingVisitorMessage(handler) {
  incomingHandler = handler;
}

function noteArrived(note) {
  const current = thread.peek();
  if (current.dialogId !== note.dialog_id) return;
  thread.value = { ...current, notes: mergeNotes(current.notes, [note]) };
}

// ---------------------------------------------------------------- sending

const sendTimers = new Map();

function putInOutbox(entry) {
  const next = new Map(outbox.peek());
  next.set(entry.clientMessageId, entry);
  outbox.value = next;
}

function removeFromOutbox(clientMessageId) {
  clearTimeout(sendTimers.get(clientMessageId));
  sendTimers.delete(clientMessageId);
  if (!outbox.peek().has(clientMessageId)) return;
  const next = new Map(outbox.peek());
  next.delete(clientMessageId);
  outbox.value = next;
}

function updateOutbox(clientMessageId, patch) {
  const entry = outbox.peek().get(clientMessageId);
  if (!entry) return null;
  const updated = { ...entry, ...patch };
  putInOutbox(updated);
  return updated;
}

/**
 * Sends a reply to the open dialog (kind 'reply') or a note (kind 'note');
 * a reply goes out through `channel` (none: where the contact last wrote from).
 */
export function send(dialogId, text, kind, channel = null) {
  const entry = {
    clientMessageId: newClientMessageId(),
    dialogId,
    text,
    kind,
    channel,
    state: 'sending',
    error: null,
    autoRetries: 0,
    createdAt: new Date().toISOString(),
  };
  putInOutbox(entry);
  transmit(entry);
}

export function retrySend(clientMessageId) {
  const entry = updateOutbox(clientMessageId, { state: 'sending', error: null, autoRetries: 0 });
  if (entry) transmit(entry);
}

export function discardSend(clientMessageId) {
  removeFromOutbox(clientMessageId);
}

function transmit(entry) {
  clearTimeout(sendTimers.get(entry.clientMessageId));
  if (entry.kind === 'note') {
    transmitNote(entry);
    return;
  }
  const frame = { type: 'send', dialog_id: entry.dialogId, client_message_id: entry.clientMessageId, text: entry.text };
  if (entry.channel) frame.channel = entry.channel;
  if (socket.send(frame)) {
    sendTimers.set(entry.clientMessageId, setTimeout(() => sendFailed(entry.clientMessageId, 'timeout', i18n.t('store.no_confirmation')), SEND_TIMEOUT_MS));
    return;
  }
  api
    .sendMessage(entry.dialogId, entry.clientMessageId, entry.text, entry.channel)
    .then((answer) => messageArrived(answer.message, { live: false }))
    .catch((error) => sendFailed(entry.clientMessageId, error.code, api.describeError(error)));
}

async function transmitNote(entry) {
  try {
    // The same id on a retry: a note sent twice is stored once.
    const note = await api.addNote(entry.dialogId, entry.text, entry.clientMessageId);
    removeFromOutbox(entry.clientMessageId);
    noteArrived(note);
  } catch (error) {
    sendFailed(entry.clientMessageId, error.code, api.describeError(error));
  }
}

/** Busy or rate-limited sends are retried a couple of times, then shown as failed. */
function sendFailed(clientMessageId, code, text) {
  const entry = outbox.peek().get(clientMessageId);
  if (!entry || code === 'unauthorized') return;
  const retriable = code === 'unavailable' || code === 'rate_limited' || code === 'network' || code === 'timeout';
  if (retriable && entry.autoRetries < SEND_AUTO_RETRY_DELAYS_MS.length) {
    const delay = SEND_AUTO_RETRY_DELAYS_MS[entry.autoRetries];
    const updated = updateOutbox(clientMessageId, { autoRetries: entry.autoRetries + 1 });
    // The send's own timeout goes: it would fail the retry while it waits.
    clearTimeout(sendTimers.get(clientMessageId));
    sendTimers.set(clientMessageId, setTimeout(() => transmit(updated), delay));
    return;
  }
  clearTimeout(sendTimers.get(clientMessageId));
  // Refused for what it is (too long, say): the same again fails the same way.
  updateOutbox(clientMessageId, { state: 'failed', error: text, retriable: code !== 'invalid' });
}

/** After a reconnect, replies still waiting for an ack go again with the same client id. */
function resendWaitingReplies() {
  for (const entry of outbox.peek().values()) {
    if (entry.kind === 'reply' && entry.state === 'sending') transmit(entry);
  }
}

// ---------------------------------------------------------------- dialog actions

async function dialogAction(call) {
  try {
    const dialog = await call();
    dialogChanged(dialog);
    return dialog;
  } catch (error) {
    notifyError(error);
    return null;
  }
}

export const assignDialog = (dialogId, managerId) => dialogAction(() => api.assignDialog(dialogId, managerId));
export const closeDialog = (dialogId) => dialogAction(() => api.closeDialog(dialogId));
export const reopenDialog = (dialogId) => dialogAction(() => api.reopenDialog(dialogId));

/** Dialogs ticked in the list for a bulk action. */
export const selectedDialogs = signal(new Set());

export function toggleSelected(dialogId) {
  const next = new Set(selectedDialogs.peek());
  if (next.has(dialogId)) next.delete(dialogId);
  else next.add(dialogId);
  selectedDialogs.value = next;
}

export function clearSelection() {
  if (selectedDialogs.peek().size) selectedDialogs.value = new Set();
}

/** Closes the ticked dialogs, or marks them as spam (closed, their visitors blocked). */
export async function bulkDialogs(action) {
  const ids = [...selectedDialogs.peek()];
  if (!ids.length) return;
  try {
    const answer = await api.bulkDialogs(ids, action);
    for (const dialog of answer.dialogs) dialogChanged(dialog);
    clearSelection();
    const count = answer.dialogs.length;
    notify(i18n.plural(action === 'spam' ? 'store.spammed' : 'store.closed', count), 'success');
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

// ---------------------------------------------------------------- contacts

export async function loadContact(contactId) {
  try {
    contactStored(await api.getContact(contactId));
  } catch (error) {
    notifyError(error);
  }
}

function contactStored(contact) {
  batch(() => {
    const map = new Map(contacts.peek());
    map.set(contact.id, contact);
    contacts.value = map;
    // The dialogs list shows the contact's name: keep it in step.
    let changed = null;
    for (const dialog of dialogs.peek().values()) {
      if (dialog.contact_id === contact.id && dialog.contact_name !== contact.name) {
        changed ??= new Map(dialogs.peek());
        changed.set(dialog.id, { ...dialog, contact_name: contact.name });
      }
    }
    if (changed) dialogs.value = changed;
    if (search.peek().results.some((result) => result.id === contact.id)) {
      search.update((current) => ({ ...current, results: current.results.map((result) => (result.id === contact.id ? contact : result)) }));
    }
  });
}

/** Saves the edit form; throws ApiError (with fields) for the form to show. */
export async function updateContact(contactId, patch) {
  const contact = await api.updateContact(contactId, patch);
  contactStored(contact);
  return contact;
}

export function showTimeline(kind = '') {
  contactPanelTab.value = 'timeline';
  const contactId = currentContactId();
  if (contactId) loadTimeline(contactId, kind);
}

/** The contact whose panel is shown: the open dialog's, or the routed contact. */
export function currentContactId() {
  const current = route.peek();
  if (current.name === 'contact') return current.id;
  const dialogId = thread.peek().dialogId;
  return dialogId ? dialogs.peek().get(dialogId)?.contact_id ?? null : null;
}

export async function loadTimeline(contactId, kind = '') {
  timeline.value = emptyTimeline(contactId, kind);
  try {
    const page = await api.contactTimeline(contactId, { kind: kind || undefined, limit: TIMELINE_PAGE_SIZE });
    if (timeline.peek().contactId !== contactId || timeline.peek().kind !== kind) return;
    timeline.value = { contactId, kind, events: page.events, nextCursor: page.next_cursor, loading: false, error: null };
  } catch (error) {
    if (timeline.peek().contactId !== contactId) return;
    timeline.update((current) => ({ ...current, loading: false, error: api.describeError(error) }));
  }
}

export async function loadMoreTimeline() {
  const current = timeline.peek();
  if (!current.contactId || current.loading || !current.nextCursor) return;
  timeline.value = { ...current, loading: true };
  try {
    const page = await api.contactTimeline(current.contactId, { kind: current.kind || undefined, limit: TIMELINE_PAGE_SIZE, cursor: current.nextCursor });
    timeline.update((now) => ({ ...now, events: [...now.events, ...page.events], nextCursor: page.next_cursor, loading: false }));
  } catch (error) {
    timeline.update((now) => ({ ...now, loading: false, error: api.describeError(error) }));
  }
}

async function openContact(contactId) {
  contactPanelTab.value = 'details';
  loadContact(contactId);
  contactDialogs.value = { contactId, items: [], loading: true };
  try {
    const pages = await Promise.all(['open', 'closed'].map((status) => api.listDialogs({ category: 'all', status, contact_id: contactId, limit: 20 })));
    if (contactDialogs.peek().contactId !== contactId) return;
    const items = pages.flatMap((page) => page.dialogs).sort((a, b) => activityTime(b) - activityTime(a));
    for (const dialog of items) storeDialog(dialog);
    contactDialogs.value = { contactId, items: items.map((dialog) => dialog.id), loading: false };
  } catch (error) {
    contactDialogs.value = { contactId, items: [], loading: false };
    notifyError(error);
  }
}

/**
 * The first message to a contact (found by search, or on the site now); then
 * shows its dialog. A caller that may send again keeps its clientMessageId,
 * so a retry is stored once. Throws ApiError.
 */
export async function writeToContact(contactId, text, clientMessageId = newClientMessageId()) {
  const answer = await api.writeToContact(contactId, clientMessageId, text);
  dialogChanged(answer.dialog);
  messageArrived(answer.message, { live: false });
  navigate(paths.dialog(answer.dialog.id));
  return answer.dialog;
}

// ---------------------------------------------------------------- search

let searchRequest = 0;

export async function searchContacts(text) {
  const query = text.trim();
  if (!query) return;
  const request = ++searchRequest;
  search.value = { open: true, query, results: [], loading: true, error: null };
  try {
    const { contacts: results } = await api.searchContacts(query);
    if (request !== searchRequest) return;
    search.value = { open: true, query, results, loading: false, error: null };
  } catch (error) {
    if (request !== searchRequest) return;
    search.value = { open: true, query, results: [], loading: false, error: api.describeError(error) };
  }
}

export function closeSearch() {
  searchRequest++;
  if (search.peek().open) search.value = { open: false, query: '', results: [], loading: false, error: null };
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

// ---------------------------------------------------------------- managers (settings)

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
function widgetSettingsArrived(settings) {
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

// ---------------------------------------------------------------- visitors on the site

// Frames that arrive while the list is loading are applied to what is shown
// and kept, to be replayed on top of the loaded list (Phoenix presence's
// pendingDiffs): the list never misses an arrival or a departure.
let visitorsGeneration = 0;
let pendingVisitorChanges = null;

export async function loadVisitors() {
  const generation = ++visitorsGeneration;
  pendingVisitorChanges = [];
  visitors.update((current) => ({ ...current, loading: true, error: null }));
  try {
    const answer = await api.listVisitors({ background: true });
    if (generation !== visitorsGeneration) return;
    const byId = new Map(answer.visitors.map((visitor) => [visitor.contact_id, visitor]));
    const changes = pendingVisitorChanges;
    pendingVisitorChanges = null;
    for (const change of changes) change(byId);
    visitors.value = { byId, loaded: true, loading: false, error: null };
  } catch (error) {
    if (generation !== visitorsGeneration) return;
    pendingVisitorChanges = null;
    visitors.update((current) => ({ ...current, loading: false, error: api.describeError(error) }));
  }
}

function visitorsChanged(change) {
  if (pendingVisitorChanges) pendingVisitorChanges.push(change);
  const current = visitors.peek();
  if (!current.loaded) return;
  const byId = new Map(current.byId);
  change(byId);
  visitors.value = { ...current, byId };
}

/** Who is on the site, the most recent arrival first. */
export function sortedVisitors(byId) {
  return [...byId.values()].sort((a, b) => (Date.parse(b.visit_started_at) || 0) - (Date.parse(a.visit_started_at) || 0));
}

// ---------------------------------------------------------------- the socket

/** After a reconnect: lists, counts, settings and visitors again, the open dialog's gap, unacked replies. */
function resync() {
  loadManagers();
  refreshCounts();
  loadWidgetSettings();
  loadVisitors();
  loadDialogList({ refresh: true });
  const current = thread.peek();
  if (current.dialogId && !current.loading) {
    socket.send({ type: 'sync', dialog_id: current.dialogId, after_seq: highestSeq(current) });
  }
  resendWaitingReplies();
}

/** One entry per server frame type: what the console does with it. */
const socketEvents = {
  hello: (frame) => {
    if (frame.manager) session.update((current) => ({ ...current, manager: { ...current.manager, ...frame.manager } }));
  },
  message: (frame) => messageArrived(frame.message),
  message_updated: (frame) => messageUpdated(frame.message),
  dialog_created: (frame) => dialogChanged(frame.dialog, { created: true }),
  dialog_updated: (frame) => dialogChanged(frame.dialog),
  dialog_read: (frame) => {
    if (frame.manager_id === myId()) patchDialog(frame.dialog_id, { unread_count: frame.unread_count });
  },
  note: (frame) => noteArrived(frame.note),
  contact_updated: (frame) => contactStored(frame.contact),
  visitor_online: (frame) => visitorsChanged((byId) => byId.set(frame.visitor.contact_id, frame.visitor)),
  visitor_offline: (frame) => visitorsChanged((byId) => byId.delete(frame.contact_id)),
  manager_presence: (frame) => {
    const list = managers.peek();
    if (!list.some((manager) => manager.id === frame.manager_id && manager.online !== frame.online)) return;
    managers.value = list.map((manager) => (manager.id === frame.manager_id ? { ...manager, online: frame.online } : manager));
  },
  widget_settings: (frame) => widgetSettingsArrived(frame.settings),
  ack: (frame) => {
    if (frame.message) messageArrived(frame.message, { live: false });
    removeFromOutbox(frame.client_message_id);
  },
  error: (frame) => {
    if (frame.client_message_id) sendFailed(frame.client_message_id, frame.code, api.describeError(new api.ApiError({ status: 0, code: frame.code, message: frame.message })));
    else if (frame.message) notify(frame.message);
  },
  pong: () => {},
};

function handleFrame(frame) {
  const handler = socketEvents[frame.type];
  if (handler) batch(() => handler(frame));
}
