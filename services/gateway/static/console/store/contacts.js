// Contacts: the contacts the console holds, the contact panel (details,
// timeline, the contact's dialogs), the first message to a contact, and the
// search for contacts.

import { signal, batch } from '../signals.js';
import * as api from '../api.js';
import { newClientMessageId } from '../format.js';
import { route, navigate, paths } from '../router.js';
import { notifyError } from './toasts.js';
import { dialogs, activityTime, storeDialog, dialogChanged } from './dialogs.js';
import { thread, messageArrived } from './thread.js';

const TIMELINE_PAGE_SIZE = 30;

export const contacts = signal(new Map());
export const timeline = signal(emptyTimeline(null, ''));
export const contactDialogs = signal({ contactId: null, items: [], loading: false });
export const search = signal({ open: false, query: '', results: [], loading: false, error: null });
/** Which tab the contact panel shows: details | timeline */
export const contactPanelTab = signal('details');

export function emptyTimeline(contactId, kind) {
  return { contactId, kind, events: [], nextCursor: null, loading: Boolean(contactId), error: null };
}

// ---------------------------------------------------------------- contacts

export async function loadContact(contactId) {
  try {
    contactStored(await api.getContact(contactId));
  } catch (error) {
    notifyError(error);
  }
}

export function contactStored(contact) {
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

export async function openContact(contactId) {
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
