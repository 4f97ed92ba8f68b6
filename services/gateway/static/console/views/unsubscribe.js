// The page an alert e-mail's unsubscribe link leads to (#/unsubscribe/<token>):
// it asks first, as opening a link must change nothing, then turns the
// manager's alert e-mails off. No sign-in: the link is the manager's own.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as api from '../api.js';
import { describeError } from '../api.js';
import { whileBusy } from './common.js';
import { brand } from './login.js';
import { t } from '../i18n.js';

export function mountUnsubscribe(container, token) {
  const error = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('unsubscribe.stop'));
  const back = h('p', { class: 'auth-aside' }, h('a', { href: '#/dialogs' }, t('unsubscribe.open_console')));
  const card = h('form', { class: 'auth-card', novalidate: true });
  card.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      const done = await whileBusy(submit, api.unsubscribe(token));
      setChildren(
        card,
        brand(),
        h('div', { class: 'auth-done' }, icon('check')),
        h('h1', {}, t('unsubscribe.done_title')),
        h('p', { class: 'auth-subtitle' }, t('unsubscribe.done_text', { address: done.email_address })),
        h('p', { class: 'auth-aside' }, h('a', { href: '#/settings/notifications' }, t('unsubscribe.settings_link'))),
      );
    } catch (failure) {
      error.textContent = failure.status === 404
        ? t('unsubscribe.link_broken')
        : describeError(failure);
    }
  });
  setChildren(card, brand(), h('h1', {}, t('unsubscribe.title')),
    h('p', { class: 'auth-subtitle' }, t('unsubscribe.text')),
    error, submit, back);
  container.append(h('main', { class: 'auth-screen' }, card));
  return () => {};
}
