// The "Your session has ended" card, over everything, after a 401 or a
// socket closed with 4401 (inactivity, sign-out elsewhere, deactivation).

import { h } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { t } from '../i18n.js';

export function mountSessionEnded(container) {
  const button = h('button', { type: 'button', class: 'btn btn-primary btn-block', onclick: () => store.signInAgain() }, t('session_ended.sign_in'));
  container.append(
    h(
      'div',
      { class: 'session-ended', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': 'session-ended-title' },
      h(
        'div',
        { class: 'auth-card session-ended-card' },
        h('div', { class: 'session-ended-icon' }, icon('clock')),
        h('h1', { id: 'session-ended-title' }, t('session_ended.title')),
        h('p', { class: 'auth-subtitle' }, t('session_ended.text')),
        button,
      ),
    ),
  );
  button.focus();
  return () => {};
}
