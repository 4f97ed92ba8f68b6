// The "Your session has ended" card, over everything, after a 401 or a
// socket closed with 4401 (inactivity, sign-out elsewhere, deactivation).

import { h } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';

export function mountSessionEnded(container) {
  const button = h('button', { type: 'button', class: 'btn btn-primary btn-block', onclick: () => store.signInAgain() }, 'Sign in again');
  container.append(
    h(
      'div',
      { class: 'session-ended', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': 'session-ended-title' },
      h(
        'div',
        { class: 'auth-card session-ended-card' },
        h('div', { class: 'session-ended-icon' }, icon('clock')),
        h('h1', { id: 'session-ended-title' }, 'Your session has ended'),
        h('p', { class: 'auth-subtitle' }, 'You were signed out after a period of inactivity, from another device, or by an administrator. Sign in again to continue.'),
        button,
      ),
    ),
  );
  button.focus();
  return () => {};
}
