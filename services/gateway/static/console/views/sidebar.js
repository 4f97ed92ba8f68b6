// The left panel: Open/Closed switch, the categories Mine, All and New with
// counts, Visitors on the site (with how many are there now), the team (one
// category per manager, with presence), and the signed-in manager with the
// sound switch and a menu (Settings, My sessions, the console's language,
// Log out).

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { navigate, paths } from '../router.js';
import { roleLabel } from '../format.js';
import { avatar, iconButton, openPopover, menu } from './common.js';
import { t, LANGUAGES, language } from '../i18n.js';
import { describeError } from '../api.js';

const CATEGORIES = [
  { category: 'mine', label: 'sidebar.mine', icon: 'user' },
  { category: 'all', label: 'sidebar.all', icon: 'inbox' },
  { category: 'new', label: 'sidebar.new', icon: 'sparkle' },
];

export function mountSidebar(container, scope) {
  const statusSwitch = h('div', { class: 'segmented', role: 'tablist', 'aria-label': t('sidebar.status') });
  const categories = h('div', { class: 'nav-list' });
  const site = h('div', { class: 'nav-list' });
  const team = h('div', { class: 'nav-list' });
  const footer = h('div', { class: 'sidebar-footer' });
  container.append(
    h('nav', { class: 'sidebar', 'aria-label': t('sidebar.dialogs') },
      h('div', { class: 'sidebar-scroll' },
        statusSwitch,
        h('div', { class: 'nav-heading' }, t('sidebar.conversations')),
        categories,
        h('div', { class: 'nav-heading' }, t('sidebar.site')),
        site,
        h('div', { class: 'nav-heading' }, t('sidebar.team')),
        team,
        h('div', { class: 'nav-list nav-settings' },
          h('button', { type: 'button', class: 'nav-item', dataset: { nav: 'settings' }, onclick: () => navigate(paths.settings('widget')) },
            icon('settings'), h('span', { class: 'nav-label' }, t('sidebar.settings')))),
      ),
      footer,
    ),
  );

  scope.effect(() => renderStatusSwitch(statusSwitch, store.filter.value.status));
  scope.effect(() => renderCategories(categories, store.filter.value, store.counts.value, onVisitors(store.route.value)));
  scope.effect(() => renderSite(site, store.visitors.value, onVisitors(store.route.value)));
  scope.effect(() => renderTeam(team, store.managers.value, store.filter.value, store.counts.value, onVisitors(store.route.value)));
  scope.effect(() => renderFooter(footer, store.session.value.manager, store.soundOn.value));
}

const onVisitors = (current) => current.name === 'visitors';

/** A category of dialogs is picked: from the visitors page, back to the inbox too. */
function showDialogs(patch) {
  store.setFilter(patch);
  if (onVisitors(store.route.peek())) navigate(paths.inbox());
}

function renderStatusSwitch(container, status) {
  setChildren(
    container,
    ['open', 'closed'].map((value) =>
      h('button', {
        type: 'button', role: 'tab', class: ['segment', status === value && 'is-selected'],
        'aria-selected': String(status === value), dataset: { status: value },
        onclick: () => showDialogs({ status: value }),
      }, t(value === 'open' ? 'sidebar.open' : 'sidebar.closed')),
    ),
  );
}

function countBadge(value) {
  return h('span', { class: 'nav-count' }, value === undefined || value === null ? '–' : String(value));
}

function navItem({ selected, onSelect, leading, label, count, data }) {
  return h('button', {
    type: 'button', class: ['nav-item', selected && 'is-selected'], 'aria-current': selected ? 'true' : 'false',
    dataset: data, onclick: onSelect,
  }, leading, h('span', { class: 'nav-label' }, label), countBadge(count));
}

function renderCategories(container, filter, counts, visitorsShown) {
  setChildren(
    container,
    CATEGORIES.map(({ category, label, icon: iconName }) =>
      navItem({
        selected: !visitorsShown && filter.category === category, label: t(label), leading: icon(iconName), count: counts ? counts[category] : null,
        data: { category }, onSelect: () => showDialogs({ category }),
      }),
    ),
  );
}

function renderSite(container, visitors, selected) {
  const count = visitors.loaded ? visitors.byId.size : null;
  const item = navItem({
    selected, label: t('sidebar.visitors'), leading: icon('globe'), count,
    data: { page: 'visitors' }, onSelect: () => navigate(paths.visitors()),
  });
  item.querySelector('.nav-count').classList.toggle('is-live', Boolean(count));
  setChildren(container, item);
}

function renderTeam(container, managers, filter, counts, visitorsShown) {
  const active = managers
    .filter((manager) => manager.active)
    .sort((a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name));
  setChildren(container, active.map((manager) => teamItem(manager, filter, counts, visitorsShown)));
  if (active.length === 0) container.append(h('div', { class: 'nav-empty' }, t('sidebar.no_managers')));
}

function teamItem(manager, filter, counts, visitorsShown) {
  return navItem({
    selected: !visitorsShown && filter.category === 'manager' && filter.managerId === manager.id,
    label: manager.name,
    leading: avatar(manager.name, manager.id, { size: 'xs', online: Boolean(manager.online) }),
    count: counts ? counts.managers[manager.id] || 0 : null,
    data: { managerId: manager.id },
    onSelect: () => showDialogs({ category: 'manager', managerId: manager.id }),
  });
}

function renderFooter(container, manager, soundOn) {
  if (!manager) return setChildren(container);
  const soundButton = iconButton(soundOn ? 'volume' : 'volumeOff', t(soundOn ? 'sidebar.sound_on' : 'sidebar.sound_off'), () => store.setSound(!soundOn), {
    class: ['icon-button', 'sound-toggle', soundOn && 'is-on'], 'aria-pressed': String(soundOn),
  });
  const profile = h('button', { type: 'button', class: 'profile-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false' },
    avatar(manager.name, manager.id, { size: 'sm', online: true }),
    h('span', { class: 'profile-text' }, h('span', { class: 'profile-name' }, manager.name), h('span', { class: 'profile-role' }, roleLabel(manager.role))),
  );
  profile.onclick = () =>
    openPopover(profile, (close) => profileMenu(manager, close), { placement: 'top', align: 'start', className: 'profile-popover' });
  setChildren(container, profile, soundButton);
}

function profileMenu(manager, close) {
  return h('div', {},
    h('div', { class: 'menu-header' }, h('div', { class: 'menu-title' }, manager.name), h('div', { class: 'menu-subtitle' }, manager.email)),
    menu([
      { label: t('sidebar.settings'), icon: 'settings', onSelect: () => navigate(paths.settings('widget')) },
      { label: t('sidebar.my_sessions'), icon: 'monitor', onSelect: () => navigate(paths.settings('sessions')) },
      'separator',
      { label: t('language.menu'), icon: 'globe', disabled: true },
      ...languageItems(),
      'separator',
      { label: t('sidebar.log_out'), icon: 'logout', danger: true, onSelect: () => store.logout(), data: { action: 'logout' } },
    ], close),
  );
}

/** The console's languages, the one spoken now ticked; choosing one keeps it for the manager. */
function languageItems() {
  const current = language.peek();
  return LANGUAGES.map(({ value, label }) => ({
    label,
    checked: value === current,
    data: { language: value },
    onSelect: () => store.setLanguage(value).catch((error) => store.notify(describeError(error))),
  }));
}
