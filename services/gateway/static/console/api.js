// The REST client of /api/v1: JSON in and out (a file goes out as its own
// bytes), the CSRF header on every request that is not a GET, errors as
// ApiError, and a hook for "the session has ended" (any 401 except where the
// caller expects one, like the login).

import { t, has } from './i18n.js';

const BASE = '/api/v1';

export class ApiError extends Error {
  constructor({ status, code, message, fields = null, retryAfter = null, accounts = null }) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfter = retryAfter;
    /** For `account_choice`: the shops the e-mail and password open. */
    this.accounts = accounts;
  }
}

let csrfToken = null;
let onSessionEnded = () => {};

export function setCsrfToken(token) {
  csrfToken = token;
}

/** Called when a request answers 401 outside of login and the start-up check. */
export function setSessionEndedHandler(handler) {
  onSessionEnded = handler;
}

// background: the console asks on its own (a frame arrived, a timer fired),
// not because the manager did something, so the server does not count it as
// the manager's activity (the 30-minute rule). A Blob body (a file) goes as
// it is; signal aborts the request.
async function request(method, path, body, { expect401 = false, background = false, signal } = {}) {
  const headers = { accept: 'application/json' };
  const raw = body instanceof Blob;
  if (background) headers['x-chat-background'] = '1';
  if (body !== undefined) headers['content-type'] = raw ? body.type || 'application/octet-stream' : 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined || raw ? body : JSON.stringify(body),
      signal,
    });
  } catch {
    throw new ApiError({ status: 0, code: 'network', message: t('errors.network') });
  }
  if (response.status === 204) return null;
  const payload = await response.json().catch(() => null);
  if (response.ok) return payload;
  const error = payload?.error || {};
  const apiError = new ApiError({
    status: response.status,
    code: error.code || 'http_' + response.status,
    message: error.message || response.statusText,
    fields: error.fields || null,
    retryAfter: parseRetryAfter(response.headers.get('retry-after')),
    accounts: error.accounts || null,
  });
  if (response.status === 401 && !expect401) onSessionEnded();
  throw apiError;
}

function parseRetryAfter(header) {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function query(parameters) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(parameters)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? '?' + text : '';
}

const id = encodeURIComponent;

// Session
export const login = (email, password, accountId = undefined) =>
  request('POST', '/auth/login', { email, password, cookie: true, account_id: accountId }, { expect401: true });
export const me = (options = {}) => request('GET', '/me', undefined, { expect401: true, ...options });
export const logout = () => request('POST', '/auth/logout', {}, { expect401: true });
export const changeMe = (patch) => request('PATCH', '/me', patch);
export const acceptInvitation = (token, password) =>
  request('POST', '/auth/invitation', { token, password }, { expect401: true });
export const requestPasswordReset = (email) => request('POST', '/auth/password-reset', { email }, { expect401: true });
export const confirmPasswordReset = (token, password) =>
  request('POST', '/auth/password-reset/confirm', { token, password }, { expect401: true });

// Dialogs
export const listDialogs = (parameters) => request('GET', '/dialogs' + query(parameters));
export const dialogCounts = (status) => request('GET', '/dialogs/counts' + query({ status }), undefined, { background: true });
export const getDialog = (dialogId, options) => request('GET', `/dialogs/${id(dialogId)}`, undefined, options);
export const listMessages = (dialogId, parameters, options) =>
  request('GET', `/dialogs/${id(dialogId)}/messages` + query(parameters), undefined, options);
/** attachments: ids of files uploaded for the dialog (uploadAttachment). */
export const sendMessage = (dialogId, clientMessageId, text, channel, attachments = []) =>
  request('POST', `/dialogs/${id(dialogId)}/messages`, {
    client_message_id: clientMessageId, text, ...(channel ? { channel } : {}), ...(attachments.length ? { attachments } : {}),
  });
/** Uploads one file for a dialog's next reply; answers the attachment to send by its id. */
export const uploadAttachment = (dialogId, file, name, options) =>
  request('POST', `/dialogs/${id(dialogId)}/attachments?name=${encodeURIComponent(name)}`, file, options);
export const assignDialog = (dialogId, managerId) =>
  request('POST', `/dialogs/${id(dialogId)}/assign`, { manager_id: managerId });
export const closeDialog = (dialogId) => request('POST', `/dialogs/${id(dialogId)}/close`, {});
/** `action`: `close`, or `spam` (close and block each one's visitor). */
export const bulkDialogs = (dialogIds, action) => request('POST', '/dialogs/bulk', { dialog_ids: dialogIds, action });
export const reopenDialog = (dialogId) => request('POST', `/dialogs/${id(dialogId)}/reopen`, {});
export const markRead = (dialogId, seq) => request('POST', `/dialogs/${id(dialogId)}/read`, { seq }, { background: true });
export const listNotes = (dialogId) => request('GET', `/dialogs/${id(dialogId)}/notes`);
export const addNote = (dialogId, text, clientNoteId) =>
  request('POST', `/dialogs/${id(dialogId)}/notes`, { text, client_note_id: clientNoteId });
export const listHeldAnswers = (dialogId) => request('GET', `/dialogs/${id(dialogId)}/held-answers`, undefined, { background: true });
export const acceptHeldAnswer = (heldAnswerId) => request('POST', `/held-answers/${id(heldAnswerId)}/accept`, {});

// Templates
export const listTemplates = () => request('GET', '/templates');
export const createTemplate = (template) => request('POST', '/templates', template);
export const updateTemplate = (templateId, patch) => request('PATCH', `/templates/${id(templateId)}`, patch);
export const deleteTemplate = (templateId) => request('DELETE', `/templates/${id(templateId)}`);

// Contacts
export const searchContacts = (text, limit = 20) => request('GET', '/contacts' + query({ q: text, limit }));
export const getContact = (contactId) => request('GET', `/contacts/${id(contactId)}`);
export const updateContact = (contactId, patch) => request('PATCH', `/contacts/${id(contactId)}`, patch);
export const contactTimeline = (contactId, parameters) =>
  request('GET', `/contacts/${id(contactId)}/timeline` + query(parameters));
export const blockContact = (contactId) => request('POST', `/contacts/${id(contactId)}/block`, {});
export const listBlocks = () => request('GET', '/blocks');
export const liftBlock = (blockId) => request('DELETE', `/blocks/${id(blockId)}`);
export const writeToContact = (contactId, clientMessageId, text) =>
  request('POST', `/contacts/${id(contactId)}/messages`, { client_message_id: clientMessageId, text });

// Managers
export const listManagers = () => request('GET', '/managers');
export const createManager = (manager) => request('POST', '/managers', manager);
export const updateManager = (managerId, patch) => request('PATCH', `/managers/${id(managerId)}`, patch);

// Widget settings (Settings → Online consultant)
export const getWidgetSettings = (options) => request('GET', '/widget/settings', undefined, options);
export const saveWidgetSettings = (settings) => request('PUT', '/widget/settings', settings);
export const previewHiddenPages = (hiddenPages, urls) =>
  request('POST', '/widget/settings/preview', { hidden_pages: hiddenPages, urls });
export const newIdentitySecret = () => request('POST', '/widget/identity-secret', {});

// Messengers (Settings → Messengers)
export const listIntegrations = (options) => request('GET', '/integrations', undefined, options);
export const connectIntegration = (channel, credentials) => request('PUT', `/integrations/${id(channel)}`, credentials);
export const disconnectIntegration = (channel) => request('DELETE', `/integrations/${id(channel)}`);

// Visitors on the site
export const listVisitors = (options) => request('GET', '/visitors', undefined, options);
export const getOnboarding = () => request('GET', '/onboarding', undefined, { background: true });

// Notifications (Settings → Notifications)
export const getNotificationPreferences = () => request('GET', '/me/notifications');
export const setNotificationPreferences = (patch) => request('PATCH', '/me/notifications', patch);
export const getAccountMail = () => request('GET', '/account/mail');
export const setAccountMail = (patch) => request('PATCH', '/account/mail', patch);
export const getAccountSmtp = () => request('GET', '/account/smtp');
export const setAccountSmtp = (server) => request('PUT', '/account/smtp', server);
export const removeAccountSmtp = () => request('DELETE', '/account/smtp');
export const unsubscribe = (token) => request('POST', `/unsubscribe/${encodeURIComponent(token)}`);
export const getPushKey = () => request('GET', '/push/key');
export const addPushSubscription = (subscription) => request('POST', '/me/push-subscriptions', subscription);
export const removePushSubscription = (endpoint) => request('DELETE', '/me/push-subscriptions' + query({ endpoint }));

// Sessions
export const listSessions = () => request('GET', '/sessions');
export const endSession = (sessionId) => request('DELETE', `/sessions/${id(sessionId)}`);
export const endOtherSessions = () => request('DELETE', '/sessions');

/** A sentence for an error, for toasts and forms. */
/**
 * What went wrong, in the manager's words: the server's error code says it
 * (its English message only for a code the console does not know).
 */
export function describeError(error) {
  if (!(error instanceof ApiError)) return t('errors.something_wrong');
  if (error.code === 'rate_limited' && error.retryAfter) return t('errors.rate_limited_in', { seconds: error.retryAfter });
  // A reply's files refused: why, rather than "some fields need fixing" (a reply has no fields to fix).
  if (error.code === 'invalid' && error.fields?.attachments) return describeProblem(error.fields.attachments);
  if (error.code && has(`errors.${error.code}`)) return t(`errors.${error.code}`);
  return error.message || t('errors.something_wrong');
}

/** Why a file was refused, in the manager's words: the file's own problem when the server named one. */
export function describeUploadError(error) {
  const problem = error instanceof ApiError && error.code === 'invalid' && (error.fields?.data || error.fields?.name);
  if (problem === 'is empty' && error.fields.data) return t('attachments.empty_file');
  return problem ? describeProblem(problem) : describeError(error);
}

/** The server's field problems (English phrases) and the catalogue's words for each. */
const PROBLEMS = [
  [/^(is empty|must not be empty|is blank)$/, 'problems.empty'],
  [/^is longer than (?<max>\d+) characters$/, 'problems.too_long'],
  [/^must be (?:at most|one line of at most) (?<max>\d+) characters$/, 'problems.too_long'],
  [/^must be (?:one line of )?at most (?<max>\d+) bytes$/, 'problems.too_long_bytes'],
  [/^must be (?<min>\d+) to (?<max>\d+) characters/, 'problems.length_between'],
  [/^has a control character$/, 'problems.control_character'],
  [/^must be one of (?<values>.+)$/, 'problems.one_of'],
  [/^(is not an e-mail address|must be an e-mail address|is not a valid e-mail address)$/, 'problems.not_email'],
  [/^has more than (?<max>\d+)/, 'problems.too_many'],
  [/^is larger than (?<max>\d+) KiB$/, 'problems.image_too_large'],
  [/^is larger than (?<max>\d+) MiB$/, 'attachments.too_large'],
  [/^is larger than (?<max>\d+) pixels on a side$/, 'problems.too_many_pixels'],
  [/^has more frames than are taken \((?<max>\d+) megapixels in all\)$/, 'problems.too_many_frames'],
  [/^is not a kind of file taken/, 'problems.file_kind'],
  [/^is not an image, whatever its name says$/, 'problems.not_image_named'],
  [/^is not a readable image \(damaged or cut short\)$/, 'problems.damaged_image'],
  [/^is not a readable image|^is not an image|^is not a PNG, JPEG or WebP image/, 'problems.not_image'],
  [/^is missing$/, 'problems.missing'],
  [/^is (already )?taken|^is already in use|^already exists/, 'problems.taken'],
  [/^must be an http or https address/, 'problems.not_address'],
  [/^is not a site like/, 'problems.not_site'],
  [/^is not a colour like/, 'problems.not_colour'],
  [/^cannot go out through \w+ yet: files go through the site chat$/, 'attachments.site_only'],
];

/** A field's problem as the server phrased it, in the manager's words when the console knows the phrase. */
export function describeProblem(problem) {
  const text = String(problem || '');
  for (const [pattern, key] of PROBLEMS) {
    const found = pattern.exec(text);
    if (found) return t(key, found.groups);
  }
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
