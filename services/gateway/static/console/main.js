// Boots the console: shows the screen that fits the session and the route
// (login, invitation, inbox, settings), the session-ended card over it,
// toasts, and keeps relative times fresh.

import { h, setChildren } from './dom.js';
import { icon } from './icons.js';
import { effect, createScope, untracked } from './signals.js';
import * as store from './store.js';
import { unlockAudioOnFirstGesture } from './sound.js';
import { watchAttention } from './attention.js';
import { followPushClicks } from './push.js';
import { mountLogin } from './views/login.js';
import { mountInvite, mountReset, mountForgot } from './views/invite.js';
import { mountUnsubscribe } from './views/unsubscribe.js';
import { mountInbox } from './views/inbox.js';
import { mountSettings } from './views/settings.js';
import { mountSessionEnded } from './views/session-ended.js';
import { refreshRelativeTimes, spinner, closeOverlays } from './views/common.js';
import { t, language } from './i18n.js';

const RELATIVE_TIME_REFRESH_MS = 30_000;

const app = document.getElementById('app');
const overlay = document.getElementById('overlay');
const toastArea = document.getElementById('toasts');

/** Which screen: a key that changes only when the whole screen must change. */
function screenFor(phase, current) {
  if (current.name === 'invite') return `invite:${current.token}`;
  if (current.name === 'reset') return `reset:${current.token}`;
  if (current.name === 'forgot') return 'forgot';
  if (current.name === 'unsubscribe') return `unsubscribe:${current.token}`;
  if (phase === 'starting') return 'starting';
  if (phase === 'unreachable') return 'unreachable';
  if (phase === 'signed_out') return 'login';
  return current.name === 'settings' ? 'settings' : 'inbox';
}

let screenScope = createScope();
let shownScreen = null;

effect(() => {
  const { phase, message } = store.session.value;
  const current = store.route.value;
  const screen = screenFor(phase, current);
  document.body.classList.toggle('session-has-ended', phase === 'ended');
  // Another language: the whole screen again, in its words.
  const shown = `${language.value}:${screen}`;
  if (shown === shownScreen) return;
  shownScreen = shown;
  screenScope.dispose();
  screenScope = createScope();
  app.replaceChildren();
  untracked(() => mountScreen(screen, current, message));
});

function mountScreen(screen, current, message) {
  if (screen === 'starting') app.append(h('div', { class: 'splash' }, spinner(t('app.opening'))));
  else if (screen === 'unreachable') app.append(unreachableCard(message));
  else if (screen === 'login') screenScope.onDispose(mountLogin(app));
  else if (screen.startsWith('invite:')) screenScope.onDispose(mountInvite(app, current.token));
  else if (screen.startsWith('reset:')) screenScope.onDispose(mountReset(app, current.token));
  else if (screen === 'forgot') screenScope.onDispose(mountForgot(app));
  else if (screen.startsWith('unsubscribe:')) screenScope.onDispose(mountUnsubscribe(app, current.token));
  else if (screen === 'settings') mountSettings(app, screenScope);
  else mountInbox(app, screenScope);
}

function unreachableCard(message) {
  return h('main', { class: 'auth-screen' },
    h('div', { class: 'auth-card' },
      h('div', { class: 'session-ended-icon' }, icon('wifiOff')),
      h('h1', {}, t('app.unreachable_title')),
      h('p', { class: 'auth-subtitle' }, message || t('app.unreachable_hint')),
      h('button', { type: 'button', class: 'btn btn-primary btn-block', onclick: () => store.start() }, t('app.try_again')),
    ),
  );
}

// The session-ended card lies over whatever screen was shown (modals close:
// a <dialog> would sit above it).
effect(() => {
  const ended = store.session.value.phase === 'ended';
  overlay.replaceChildren();
  if (ended) untracked(() => {
    closeOverlays();
    mountSessionEnded(overlay);
  });
});

// Loading what a route shows (a dialog, a contact) is the store's job.
effect(() => {
  const current = store.route.value;
  untracked(() => {
    closeOverlays();
    store.followRoute(current);
  });
});

effect(() => {
  const list = store.toasts.value;
  setChildren(
    toastArea,
    list.map((toast) =>
      h('div', { class: ['toast', 'toast-' + toast.kind], role: toast.kind === 'error' ? 'alert' : 'status' },
        icon(toast.kind === 'error' ? 'alert' : 'checkCircle'),
        h('span', { class: 'toast-text' }, toast.text),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': t('app.dismiss'), onclick: () => store.dismissToast(toast.id) }, icon('x')),
      ),
    ),
  );
});

setInterval(refreshRelativeTimes, RELATIVE_TIME_REFRESH_MS);
unlockAudioOnFirstGesture();
watchAttention();
followPushClicks();
store.start();
