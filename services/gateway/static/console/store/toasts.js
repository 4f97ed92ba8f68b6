// Toasts: the short notices in the corner of the screen, and notifyError,
// the way every part of the store tells of a request that failed.

import { signal } from '../signals.js';
import * as api from '../api.js';

const TOAST_MS = 5_000;

export const toasts = signal([]);

let toastSequence = 0;

export function notify(text, kind = 'error') {
  const id = ++toastSequence;
  toasts.update((list) => [...list, { id, text, kind }]);
  setTimeout(() => dismissToast(id), TOAST_MS);
}

export function dismissToast(id) {
  toasts.update((list) => list.filter((toast) => toast.id !== id));
}

export function notifyError(error) {
  if (error?.status === 401) return; // the session-ended screen says it
  notify(api.describeError(error));
}
