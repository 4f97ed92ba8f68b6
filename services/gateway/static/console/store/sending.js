// Sending: replies and notes on their way to the server (the outbox), sent
// through the socket or, while it is down, by REST; a busy server's refusals
// are retried a couple of times, then shown as failed. A reply keeps the
// files it carries (uploaded before, named by id) through every retry.

import { signal } from '../signals.js';
import * as api from '../api.js';
import { newClientMessageId } from '../format.js';
import * as i18n from '../i18n.js';
import { socket } from './socket.js';
import { messageArrived, noteArrived } from './thread.js';

const SEND_TIMEOUT_MS = 15_000;
const SEND_AUTO_RETRY_DELAYS_MS = [2_000, 5_000];

/** Messages and notes on their way to the server, by client id. */
export const outbox = signal(new Map());

// ---------------------------------------------------------------- sending

const sendTimers = new Map();

/** A session that ended: no send times out or is retried any more. */
export function clearSendTimers() {
  for (const timer of sendTimers.values()) clearTimeout(timer);
}

function putInOutbox(entry) {
  const next = new Map(outbox.peek());
  next.set(entry.clientMessageId, entry);
  outbox.value = next;
}

export function removeFromOutbox(clientMessageId) {
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
 * a reply goes out through `channel` (none: where the contact last wrote
 * from), with the files uploaded for it (attachments, as the server gave them).
 */
export function send(dialogId, text, kind, channel = null, attachments = []) {
  const entry = {
    clientMessageId: newClientMessageId(),
    dialogId,
    text,
    kind,
    channel,
    attachments,
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
  const attachmentIds = (entry.attachments || []).map((attachment) => attachment.id);
  if (attachmentIds.length) frame.attachments = attachmentIds;
  if (socket.send(frame)) {
    sendTimers.set(entry.clientMessageId, setTimeout(() => sendFailed(entry.clientMessageId, 'timeout', i18n.t('store.no_confirmation')), SEND_TIMEOUT_MS));
    return;
  }
  api
    .sendMessage(entry.dialogId, entry.clientMessageId, entry.text, entry.channel, attachmentIds)
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
export function sendFailed(clientMessageId, code, text) {
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
export function resendWaitingReplies() {
  for (const entry of outbox.peek().values()) {
    if (entry.kind === 'reply' && entry.state === 'sending') transmit(entry);
  }
}
