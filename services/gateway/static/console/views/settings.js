// The settings screen: a navigation (Online consultant, Messengers, Reply
// templates, Managers for owners and admins, Notifications, Blocked
// visitors, My sessions)
// beside the chosen page.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { createScope, untracked } from '../signals.js';
import { paths } from '../router.js';
import { mountTemplatesPage } from './settings-templates.js';
import { mountManagersPage } from './settings-managers.js';
import { mountSessionsPage } from './settings-sessions.js';
import { mountBlocksPage } from './settings-blocks.js';
import { mountWidgetSettingsPage } from './settings-widget.js';
import { mountIntegrationsPage } from './settings-integrations.js';
import { mountNotificationsPage } from './settings-notifications.js';
import { emptyState } from './common.js';
import { brand } from './login.js';
import { t } from '../i18n.js';

/** The pages, each with its label's key in the catalogue. */
const PAGES = [
  { page: 'widget', label: 'settings.widget', icon: 'widget', mount: mountWidgetSettingsPage },
  { page: 'integrations', label: 'settings.integrations', icon: 'chat', mount: mountIntegrationsPage },
  { page: 'templates', label: 'settings.templates', icon: 'template', mount: mountTemplatesPage },
  { page: 'managers', label: 'settings.managers', icon: 'users', mount: mountManagersPage, adminOnly: true },
  { page: 'notifications', label: 'settings.notifications', icon: 'mail', mount: mountNotificationsPage },
  { page: 'blocks', label: 'settings.blocks', icon: 'lock', mount: mountBlocksPage },
  { page: 'sessions', label: 'sidebar.my_sessions', icon: 'monitor', mount: mountSessionsPage },
];

export function canManageTeam(manager) {
  return manager?.role === 'owner' || manager?.role === 'admin';
}

export function mountSettings(container, scope) {
  const nav = h('nav', { class: 'settings-nav', 'aria-label': t('sidebar.settings') });
  const content = h('main', { class: 'settings-content' });
  container.append(
    h('div', { class: 'app' },
      h('header', { class: 'topbar' }, brand(), h('div', { class: 'topbar-title' }, t('sidebar.settings'))),
      h('div', { class: 'settings-layout' }, nav, content),
    ),
  );

  let pageScope = createScope();
  let shownPage = null;
  scope.onDispose(() => pageScope.dispose());
  scope.effect(() => {
    const current = store.route.value;
    const manager = store.session.value.manager;
    untracked(() => renderNav(nav, current.page, manager));
    const key = `${current.page}:${manager?.role}`;
    if (key === shownPage) return;
    shownPage = key;
    pageScope.dispose();
    pageScope = createScope();
    content.replaceChildren();
    const page = PAGES.find((candidate) => candidate.page === current.page) || PAGES[0];
    content.dataset.page = page.page;
    untracked(() => {
      if (page.adminOnly && !canManageTeam(manager)) content.append(emptyState('lock', t('settings.admins_only_title'), t('settings.admins_only_text')));
      else page.mount(content, pageScope);
    });
  });
}

function renderNav(nav, currentPage, manager) {
  setChildren(
    nav,
    h('a', { class: 'settings-back', href: paths.inbox() }, icon('arrowLeft'), t('settings.back')),
    h('div', { class: 'nav-heading' }, t('sidebar.settings')),
    PAGES.filter((page) => !page.adminOnly || canManageTeam(manager)).map((page) =>
      h('a', { class: ['nav-item', page.page === currentPage && 'is-selected'], href: paths.settings(page.page), 'aria-current': page.page === currentPage ? 'page' : 'false', dataset: { page: page.page } },
        icon(page.icon), h('span', { class: 'nav-label' }, t(page.label))),
    ),
  );
}
