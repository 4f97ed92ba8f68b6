// Small building blocks shared by the views: avatars, buttons, empty and
// loading states, relative times, modals, confirmations, popovers, form fields.

import { h, onDismiss } from '../dom.js';
import { icon } from '../icons.js';
import { initials, avatarColors, relativeTime, relativeTimeLong } from '../format.js';
import { describeProblem } from '../api.js';
import { t } from '../i18n.js';

export function avatar(name, seed, { size = 'md', online = null } = {}) {
  const colors = avatarColors(seed || name);
  return h(
    'span',
    { class: `avatar avatar-${size}`, style: { background: colors.background, color: colors.color }, 'aria-hidden': 'true' },
    initials(name),
    online === null ? null : h('span', { class: ['presence', online ? 'is-online' : 'is-offline'] }),
  );
}

/** A contact's avatar: initials, or a person icon for a visitor with no name yet. */
export function contactAvatar(name, contactId, options = {}) {
  if ((name || '').trim()) return avatar(name, contactId, options);
  const element = avatar('', contactId, options);
  element.replaceChildren(icon('user'));
  element.classList.add('is-anonymous');
  return element;
}

export function iconButton(name, label, onclick, attributes = {}) {
  return h('button', { type: 'button', class: 'icon-button', title: label, 'aria-label': label, onclick, ...attributes }, icon(name));
}

export function spinner(label = t('common.loading')) {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, label));
}

export function emptyState(iconName, title, text, ...actions) {
  return h(
    'div',
    { class: 'empty-state' },
    h('div', { class: 'empty-icon' }, icon(iconName)),
    h('div', { class: 'empty-title' }, title),
    text ? h('div', { class: 'empty-text' }, text) : null,
    actions.length ? h('div', { class: 'empty-actions' }, actions) : null,
  );
}

/** A <time> element kept fresh by refreshRelativeTimes(). */
export function timeAgo(value, { long = false, className = 'time' } = {}) {
  const element = h('time', { class: className, datetime: value || '', dataset: { relative: long ? 'long' : 'short' } });
  if (value) element.title = new Date(value).toLocaleString();
  element.textContent = long ? relativeTimeLong(value) : relativeTime(value);
  return element;
}

export function refreshRelativeTimes() {
  for (const element of document.querySelectorAll('time[data-relative]')) {
    const value = element.getAttribute('datetime');
    if (!value) continue;
    element.textContent = element.dataset.relative === 'long' ? relativeTimeLong(value) : relativeTime(value);
  }
}

// ---------------------------------------------------------------- modals

/**
 * Opens a modal <dialog>. build(close) returns the body; answers a promise
 * settled with what close(value) is called with (undefined on Escape).
 */
const openModals = new Set();

export function openModal({ title, build, wide = false, className = '' }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: ['modal', wide && 'modal-wide', className], 'aria-label': title });
    let settled = false;
    const close = (value) => {
      if (settled) return;
      settled = true;
      openModals.delete(close);
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    openModals.add(close);
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      close(undefined);
    });
    dialog.addEventListener('mousedown', (event) => {
      if (event.target === dialog) close(undefined);
    });
    const header = h('header', { class: 'modal-header' }, h('h2', {}, title), iconButton('x', t('common.close'), () => close(undefined)));
    dialog.append(header, h('div', { class: 'modal-body' }, build(close)));
    document.body.append(dialog);
    dialog.showModal();
    const first = dialog.querySelector('[autofocus], input, textarea, select');
    if (first) first.focus();
  });
}

/** A confirmation; answers true when the manager confirms. */
export function confirmAction({ title, text, confirmLabel = t('common.confirm'), danger = false }) {
  return openModal({
    title,
    className: 'modal-confirm',
    build: (close) =>
      h(
        'div',
        {},
        h('p', { class: 'modal-text' }, text),
        h(
          'div',
          { class: 'form-actions' },
          h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => close(false) }, t('common.cancel')),
          h('button', { type: 'button', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], autofocus: true, onclick: () => close(true) }, confirmLabel),
        ),
      ),
  }).then(Boolean);
}

// ---------------------------------------------------------------- popovers

let closeOpenPopover = null;

/**
 * Shows content (a node, or close => node) in a floating panel anchored to
 * anchor (below it, or above with placement 'top'); one at a time; closes on
 * Escape or an outside click.
 */
export function openPopover(anchor, content, { placement = 'bottom', align = 'end', className = '' } = {}) {
  const anchorWasOpen = anchor.getAttribute('aria-expanded') === 'true';
  if (closeOpenPopover) closeOpenPopover();
  if (anchorWasOpen) return () => {}; // a second click on the anchor closes it
  const panel = h('div', { class: ['popover', className], role: 'dialog' });
  let stopDismiss = () => {};
  const close = () => {
    stopDismiss();
    panel.remove();
    anchor.setAttribute('aria-expanded', 'false');
    if (closeOpenPopover === close) closeOpenPopover = null;
  };
  panel.append(typeof content === 'function' ? content(close) : content);
  document.body.append(panel);
  position(panel, anchor, placement, align);
  anchor.setAttribute('aria-expanded', 'true');
  stopDismiss = onDismiss(panel, close, { ignore: [anchor] });
  closeOpenPopover = close;
  const focusable = panel.querySelector('input, button, [tabindex]');
  if (focusable) focusable.focus();
  return close;
}

export function closePopover() {
  if (closeOpenPopover) closeOpenPopover();
}

/** Closes every modal and popover: on a change of screen, or when the session ends. */
export function closeOverlays() {
  closePopover();
  for (const close of [...openModals]) close(undefined);
}

function position(panel, anchor, placement, align) {
  const rect = anchor.getBoundingClientRect();
  const margin = 6;
  panel.style.position = 'fixed';
  const width = panel.offsetWidth;
  let left = align === 'end' ? rect.right - width : rect.left;
  left = Math.max(8, Math.min(left, window.innerWidth - width - 8));
  panel.style.left = `${left}px`;
  if (placement === 'top') panel.style.bottom = `${window.innerHeight - rect.top + margin}px`;
  else panel.style.top = `${rect.bottom + margin}px`;
}

/** A menu for a popover: items { label, icon?, onSelect, checked?, danger?, hint? }. */
export function menu(items, close) {
  return h(
    'div',
    { class: 'menu', role: 'menu' },
    items.map((item) =>
      item === 'separator'
        ? h('div', { class: 'menu-separator', role: 'separator' })
        : h(
            'button',
            {
              type: 'button',
              role: 'menuitem',
              class: ['menu-item', item.danger && 'is-danger', item.checked && 'is-checked'],
              disabled: item.disabled,
              dataset: item.data || {},
              onclick: () => {
                close();
                item.onSelect();
              },
            },
            item.leading || (item.icon ? icon(item.icon) : null),
            h('span', { class: 'menu-label' }, item.label),
            item.hint ? h('span', { class: 'menu-hint' }, item.hint) : null,
            item.checked ? h('span', { class: 'menu-check' }, icon('check')) : null,
          ),
    ),
  );
}

// ---------------------------------------------------------------- forms

/** A card of a settings page: a title, a line saying what it is for, its body. */
export function settingsCard(title, description, ...children) {
  return h('section', { class: 'settings-card' },
    h('header', { class: 'settings-card-header' }, h('h2', {}, title), description ? h('p', {}, description) : null),
    h('div', { class: 'settings-card-body' }, children),
  );
}

/** A labelled field with a place for its error; returns { element, input, setError }. */
export function field(label, input, { hint = null } = {}) {
  const id = 'field-' + Math.random().toString(36).slice(2, 9);
  input.id = id;
  const error = h('div', { class: 'field-error', id: id + '-error', role: 'alert' });
  input.setAttribute('aria-describedby', id + '-error');
  const element = h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('div', { class: 'field-hint' }, hint) : null, error);
  return {
    element,
    input,
    setError(text) {
      error.textContent = text || '';
      element.classList.toggle('has-error', Boolean(text));
      input.setAttribute('aria-invalid', text ? 'true' : 'false');
    },
  };
}

/** Shows an ApiError's field errors under the matching fields; the rest in formError. */
export function showFormErrors(error, fieldsByName, formError, describe) {
  for (const entry of Object.values(fieldsByName)) entry.setError('');
  const unmatched = [];
  for (const [name, problem] of Object.entries(error?.fields || {})) {
    const target = fieldsByName[name] || fieldsByName[name.split('.')[0]];
    if (target) target.setError(describeProblem(problem));
    else unmatched.push(`${name}: ${describeProblem(problem)}`);
  }
  const hasFieldErrors = error?.fields && Object.keys(error.fields).length > 0;
  formError.textContent = unmatched.length ? unmatched.join('; ') : hasFieldErrors ? '' : describe(error);
}

/** Marks a button busy (disabled, spinner) while promise runs. */
export async function whileBusy(button, promise) {
  button.disabled = true;
  button.classList.add('is-busy');
  try {
    return await promise;
  } finally {
    button.disabled = false;
    button.classList.remove('is-busy');
  }
}

/** The header of a settings page: title, description, an optional action. */
export function pageHeader(title, description, action = null) {
  return h('header', { class: 'page-header' }, h('div', {}, h('h1', {}, title), h('p', { class: 'page-description' }, description)), action);
}

/**
 * Sends a composer's form on submit and on Enter (Shift+Enter is a new
 * line); `onEscape`, if given, runs on Escape.
 */
export function submitOnEnter(form, textarea, submit, onEscape = null) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === 'Escape' && onEscape) {
      onEscape();
    }
  });
}
