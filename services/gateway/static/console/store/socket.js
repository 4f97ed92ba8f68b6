// The socket: the manager's WebSocket (../socket.js connects and
// reconnects it), its state, and the table that turns each server frame into
// an action; after a reconnect, what was missed is asked for again.

import { signal, batch } from '../signals.js';
import * as api from '../api.js';
import { ManagerSocket } from '../socket.js';
import { notify } from './toasts.js';
import { session, myId, sessionEnded, checkSessionStillValid } from './session.js';
import { managers, loadManagers, loadWidgetSettings, widgetSettingsArrived } from './settings.js';
import { refreshCounts, loadDialogList, dialogChanged, patchDialog } from './dialogs.js';
import { thread, highestSeq, messageArrived, messageUpdated, noteArrived } from './thread.js';
import { removeFromOutbox, sendFailed, resendWaitingReplies } from './sending.js';
import { contactStored } from './contacts.js';
import { loadVisitors, visitorsChanged } from './visitors.js';

/** idle | connecting | online | reconnecting | stopped */
export const connection = signal('idle');

/** The one socket: session.js starts and stops it, sending.js sends replies through it. */
export const socket = new ManagerSocket({
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
    if (frame.client_message_id) sendFailed(frame.client_message_id, frame.code, api.describeError(new api.ApiError({ status: 0, code: frame.code, message: frame.message, fields: frame.fields })));
    else if (frame.message) notify(frame.message);
  },
  pong: () => {},
};

function handleFrame(frame) {
  const handler = socketEvents[frame.type];
  if (handler) batch(() => handler(frame));
}
