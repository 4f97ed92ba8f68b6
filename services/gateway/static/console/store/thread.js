// The open dialog: its history (messages by seq, and notes), older pages,
// the gaps a frame ahead of a page leaves, the read marker, and what a
// message does to its dialog (preview, unread count, the chime).

import { signal } from '../signals.js';
import * as api from '../api.js';
import { playSound } from '../sound.js';
import { notifyError } from './toasts.js';
import { myId, soundOn } from './session.js';
import { dialogs, storeDialog, patchDialog, whenListReady, placeInList, fetchUnknownDialog } from './dialogs.js';
import { outbox, removeFromOutbox } from './sending.js';
import { contactPanelTab, loadContact } from './contacts.js';
import { managerSound } from './settings.js';
import { previewText } from '../attachments.js';

const HISTORY_PAGE_SIZE = 50;

/** The open dialog's history: messages by seq and notes. */
export const thread = signal(emptyThread(null));

export function emptyThread(dialogId) {
  return { dialogId, messages: [], notes: [], hasMore: false, loading: Boolean(dialogId), loadingOlder: false, error: null };
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
export function messageUpdated(message) {
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

export function highestSeq(current = thread.peek()) {
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

/** At sign-out: no read marker counts as sent. */
export function forgetReadMarkers() {
  lastReadSent.clear();
}

document.addEventListener('visibilitychange', () => {
  const dialogId = thread.peek().dialogId;
  if (dialogId && document.visibilityState === 'visible') markDialogRead(dialogId);
});

/** A message from the socket, an ack, a sync or a REST answer. */
export function messageArrived(message, { live = true } = {}) {
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
    patch.last_message_text = previewText(message);
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

export function noteArrived(note) {
  const current = thread.peek();
  if (current.dialogId !== note.dialog_id) return;
  thread.value = { ...current, notes: mergeNotes(current.notes, [note]) };
}
