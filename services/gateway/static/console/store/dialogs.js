// The dialogs: every dialog the console knows, the list in the middle
// column (its filter, its pages, and the socket events that move dialogs in
// and out of it while a page loads), the counts per category, and the
// actions on dialogs (assign, close, reopen, and on the ticked ones at once).

import { signal, batch } from '../signals.js';
import * as api from '../api.js';
import { route, showList } from '../router.js';
import * as i18n from '../i18n.js';
import { notify, notifyError } from './toasts.js';
import { myId } from './session.js';
import { closeSearch } from './contacts.js';

const LIST_PAGE_SIZE = 50;
const FILTER_STORAGE_KEY = 'console.filter';

/** { mine, all, new, managers: { [managerId]: n } } for filter.status, or null */
export const counts = signal(null);
/** { category: mine|all|new|manager, managerId, status: open|closed } */
export const filter = signal(route.peek().list || loadFilter());
/** Every dialog the console knows, by id. */
export const dialogs = signal(new Map());
/** The ids shown in the middle column, in order. */
export const dialogList = signal({ ids: [], nextCursor: null, loading: false, loaded: false, error: null });

// ---------------------------------------------------------------- counts

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

export function activityTime(dialog) {
  return Date.parse(dialog.last_message_at || dialog.created_at) || 0;
}

// Socket events that arrive while a page of the list is loading wait here
// and are replayed on top of the page (like Phoenix presence's pendingDiffs).
let listLoadGeneration = 0;
let pendingListChanges = null;
let touchedWhileLoading = new Set();

export function whenListReady(change) {
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
export function storeDialog(dialog) {
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

export function patchDialog(id, patch) {
  const known = dialogs.peek().get(id);
  if (!known) return;
  const map = new Map(dialogs.peek());
  map.set(id, { ...known, ...patch });
  dialogs.value = map;
}

/** Puts the dialog where it belongs in the shown list, or takes it out. */
export function placeInList(dialogId) {
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
export function dialogChanged(dialog, { created = false } = {}) {
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
export function fetchUnknownDialog(dialogId) {
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

/** At sign-out: the dialogs fetched for a message are fetched anew. */
export function forgetUnknownDialogFetches() {
  unknownDialogFetches.clear();
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
