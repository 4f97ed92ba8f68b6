// The page an alert e-mail's unsubscribe link leads to (#/unsubscribe/<token>):
// it asks first, as opening a link must change nothing, then turns the
// manager's alert e-mails off. No sign-in: the link is the manager's own.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as api from '../api.js';
import { describeError } from '../api.js';
import { whileBusy } from './common.js';
import { brand } from './login.js';

export function mountUnsubscribe(container, token) {
  const error = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Stop these e-mails');
  const back = h('p', { class: 'auth-aside' }, h('a', { href: '#/dialogs' }, 'Open the console'));
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
        h('h1', {}, 'You will get no more of these e-mails'),
        h('p', { class: 'auth-subtitle' }, `Visitors\u2019 messages are no longer e-mailed to ${done.email_address}. Turn them back on in Settings \u2192 Notifications.`),
        h('p', { class: 'auth-aside' }, h('a', { href: '#/settings/notifications' }, 'Notification settings')),
      );
    } catch (failure) {
      error.textContent = failure.status === 404
        ? 'This link does not work: it is not from one of our e-mails, or it was cut short.'
        : describeError(failure);
    }
  });
  setChildren(card, brand(), h('h1', {}, 'Stop e-mails about new messages?'),
    h('p', { class: 'auth-subtitle' }, 'You will no longer get an e-mail when a visitor writes while your console is closed. Browser push, if you turned it on, stays on.'),
    error, submit, back);
  container.append(h('main', { class: 'auth-screen' }, card));
  return () => {};
}
