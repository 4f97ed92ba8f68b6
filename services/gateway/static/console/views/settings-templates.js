// Settings → Reply templates: the list by name; create, edit (name and text)
// and delete with a confirmation; 422/409 errors under the fields.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { openModal, confirmAction, field, showFormErrors, whileBusy, spinner, emptyState, timeAgo, pageHeader } from './common.js';
import { t } from '../i18n.js';

export function mountTemplatesPage(container, scope) {
  const addButton = h('button', { type: 'button', class: 'btn btn-primary', dataset: { action: 'new-template' }, onclick: () => editTemplate(null) }, icon('plus'), t('settings_templates.new'));
  const body = h('div', { class: 'page-body' });
  container.append(pageHeader(t('settings.templates'), t('settings_templates.description'), addButton), body);
  scope.effect(() => renderTemplates(body, store.templates.value));
  store.loadTemplates();
}

function renderTemplates(body, state) {
  if (!state.loaded && state.loading) return setChildren(body, spinner(t('composer.loading_templates')));
  if (state.error && !state.loaded) return setChildren(body, emptyState('alert', t('settings_templates.load_failed'), state.error));
  if (state.items.length === 0)
    return setChildren(body, emptyState('template', t('settings_templates.empty_title'), t('settings_templates.empty_text'),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: () => editTemplate(null) }, icon('plus'), t('settings_templates.new'))));
  setChildren(
    body,
    h('div', { class: 'card-list' },
      state.items.map((template) =>
        h('article', { class: 'template-card', dataset: { templateId: template.id } },
          h('div', { class: 'template-card-main' },
            h('h3', { class: 'template-card-name' }, template.name),
            h('p', { class: 'template-card-text' }, template.text),
            h('div', { class: 'template-card-meta' }, withNodes('settings_templates.updated', { time: timeAgo(template.updated_at || template.created_at, { long: true }) })),
          ),
          h('div', { class: 'template-card-actions' },
            h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'edit' }, onclick: () => editTemplate(template) }, icon('edit'), t('settings.edit')),
            h('button', { type: 'button', class: 'btn btn-ghost btn-small is-danger', dataset: { action: 'delete' }, onclick: () => removeTemplate(template) }, icon('trash'), t('settings_templates.delete')),
          ),
        ),
      ),
    ),
  );
}

function editTemplate(template) {
  return openModal({
    title: template ? t('settings_templates.edit_title') : t('settings_templates.new'),
    wide: true,
    build: (close) => {
      const name = field(t('settings_templates.name'), h('input', { type: 'text', name: 'name', value: template?.name || '', required: true, maxlength: 100, placeholder: t('settings_templates.name_placeholder') }));
      const text = field(t('settings_templates.text'), h('textarea', { name: 'text', rows: 6, required: true, placeholder: t('settings_templates.text_placeholder') }));
      text.input.value = template?.text || '';
      const formError = h('div', { class: 'form-error', role: 'alert' });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, template ? t('settings.save_changes') : t('settings_templates.create'));
      const form = h('form', { class: 'form', novalidate: true }, name.element, text.element, formError,
        h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => close() }, t('common.cancel')), save));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const values = { name: name.input.value.trim(), text: text.input.value };
        name.setError(values.name ? '' : t('settings_templates.name_missing'));
        text.setError(values.text.trim() ? '' : t('settings_templates.text_missing'));
        if (!values.name || !values.text.trim()) return;
        try {
          await whileBusy(save, store.saveTemplate(template?.id, values));
          close(true);
        } catch (error) {
          showFormErrors(error, { name, text }, formError, describeError);
        }
      });
      return form;
    },
  });
}

async function removeTemplate(template) {
  const confirmed = await confirmAction({
    title: t('settings_templates.delete_title'),
    text: t('settings_templates.delete_text', { name: template.name }),
    confirmLabel: t('settings_templates.delete'),
    danger: true,
  });
  if (confirmed) store.deleteTemplate(template.id);
}

/** The words of key with a node where each {placeholder} named in nodes is. */
function withNodes(key, nodes) {
  return t(key).split(/\{(\w+)\}/).map((piece, index) => (index % 2 ? nodes[piece] ?? `{${piece}}` : piece)).filter((piece) => piece !== '');
}
