// Browser push on this computer: the console's service worker (sw.js)
// registered, the browser subscribed with the deployment's VAPID key, and
// the subscription handed to the server; and the way back.

import * as api from './api.js';
import { navigate } from './router.js';
import { t } from './i18n.js';

const WORKER_URL = '/console/sw.js';

export function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

async function registration() {
  return navigator.serviceWorker.register(WORKER_URL, { scope: '/console/' });
}

/** Whether this browser is subscribed (for this console). */
export async function pushSubscribed() {
  if (!pushSupported()) return false;
  const existing = await navigator.serviceWorker.getRegistration('/console/');
  return Boolean(await existing?.pushManager.getSubscription());
}

/** Asks the browser, subscribes and tells the server; throws with a sentence when it cannot. */
export async function enablePush() {
  if (!pushSupported()) throw new Error(t('push.unsupported'));
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error(t('push.not_allowed'));
  const worker = await registration();
  const { public_key: key } = await api.getPushKey();
  const subscription = await worker.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64Url(key) });
  await api.addPushSubscription(subscription.toJSON());
  await api.setNotificationPreferences({ push: true });
}

/** Unsubscribes this browser and tells the server. */
export async function disablePush() {
  const existing = await navigator.serviceWorker.getRegistration('/console/');
  const subscription = await existing?.pushManager.getSubscription();
  if (!subscription) return;
  await api.removePushSubscription(subscription.endpoint);
  await subscription.unsubscribe();
}

function fromBase64Url(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** Opens what a clicked push names, in this console (the worker asks). */
export function followPushClicks() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type !== 'open' || typeof event.data.url !== 'string') return;
    const target = new URL(event.data.url, location.href);
    if (target.origin === location.origin && target.pathname === location.pathname) navigate(target.hash);
  });
}
