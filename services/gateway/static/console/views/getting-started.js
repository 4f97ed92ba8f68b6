// The getting-started checklist, where the inbox would say "Pick a dialog",
// for owners and admins of a shop that has not finished its first steps:
// put the chat on the site, connect a messenger, invite the team, write the
// chat's own greetings. Each step ticks itself by what the suite sees
// (GET /api/v1/onboarding, asked again while the list shows); the list can
// be hidden, per manager and shop, in this browser.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as api from '../api.js';
import * as store from '../store.js';
import { navigate, paths } from '../router.js';
import { t } from '../i18n.js';
import { canManageTeam } from './settings.js';

/** How often the list asks again while it shows (the snippet may go in meanwhile). */
const REFRESH_MS = 20_000;

/** The steps, in the order a new shop takes them. */
const STEPS = [
  { done: 'widget_seen', title: 'getting_started.snippet_title', text: 'getting_started.snippet_text', action: 'getting_started.snippet_action', page: 'widget' },
  { done: 'messenger_connected', title: 'getting_started.messenger_title', text: 'getting_started.messenger_text', action: 'getting_started.messenger_action', page: 'integrations' },
  { done: 'team_invited', title: 'getting_started.team_title', text: 'getting_started.team_text', action: 'getting_started.team_action', page: 'managers' },
  { done: 'messages_set', title: 'getting_started.messages_title', text: 'getting_started.messages_text', action: 'getting_started.messages_action', page: 'widget' },
];

const hiddenKey = (manager) => `console.gettingStartedHidden.${manager.account_id}.${manager.id}`;

/** Whether this manager should see the list at all (before asking what is done). */
export function offersGettingStarted(manager) {
  if (!canManageTeam(manager)) return false;
  try {
    return localStorage.getItem(hiddenKey(manager)) !== 'true';
  } catch {
    return true;
  }
}

/** Mounts the list into container; calls otherwise() instead once every step is done or the list is hidden. */
export function mountGettingStarted(container, scope, otherwise) {
  const manager = store.session.peek().manager;
  const card = h('section', { class: 'getting-started', 'aria-labelledby': 'getting-started-title' });
  container.append(card);
  let timer = null;
  let stopped = false;
  scope.onDispose(() => {
    stopped = true;
    clearTimeout(timer);
  });
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    card.remove();
    otherwise();
  };
  const hide = () => {
    try {
      localStorage.setItem(hiddenKey(manager), 'true');
    } catch {
      // Hidden for this page only.
    }
    stop();
  };
  const refresh = async () => {
    let steps;
    try {
      steps = await api.getOnboarding();
    } catch {
      if (!stopped) timer = setTimeout(refresh, REFRESH_MS);
      return;
    }
    if (stopped) return;
    const done = STEPS.filter((step) => steps[step.done] === true).length;
    if (done === STEPS.length) return stop();
    setChildren(card,
      h('div', { class: 'getting-started-head' },
        h('div', {},
          h('h2', { id: 'getting-started-title' }, t('getting_started.title')),
          h('p', { class: 'getting-started-progress' }, t('getting_started.progress', { done, total: STEPS.length }))),
        h('button', { type: 'button', class: 'btn btn-ghost btn-small', dataset: { action: 'hide-getting-started' }, onclick: hide }, t('getting_started.hide'))),
      h('ol', { class: 'getting-started-steps' }, STEPS.map((step) => stepItem(step, steps))),
    );
    timer = setTimeout(refresh, REFRESH_MS);
  };
  refresh();
}

function stepItem(step, steps) {
  const done = steps[step.done] === true;
  const text = done && step.done === 'widget_seen' && steps.widget_seen_url
    ? t('getting_started.snippet_seen', { url: steps.widget_seen_url })
    : t(step.text);
  return h('li', { class: ['getting-started-step', done && 'is-done'], dataset: { step: step.done } },
    h('span', { class: 'getting-started-tick', 'aria-hidden': 'true' }, done ? icon('check') : null),
    h('div', { class: 'getting-started-body' },
      h('div', { class: 'getting-started-step-title' }, t(step.title), done ? h('span', { class: 'visually-hidden' }, ' ', t('getting_started.done')) : null),
      h('div', { class: 'getting-started-text' }, text)),
    done ? null : h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => navigate(paths.settings(step.page)) }, t(step.action)),
  );
}
