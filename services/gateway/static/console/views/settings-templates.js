// Settings → Reply templates: the list by name; create, edit (name and text)
// and delete with a confirmation; 422/409 errors under the fields.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { openModal, confirmAction, field, showFormErrors, whileBusy, spinner, emptyState, timeAgo, pageHeader } from './common.js';

export function mountTemplatesPage(container, scope) {
  const addButton = h('button', { type: 'button', class: 'btn btn-primary', dataset: { action: 'new-template' }, onclick: () => editTemplate(null) }, icon('plus'), 'New template');
  const body = h('div', { class: 'page-body' });
  container.append(pageHeader('Reply templates', 'Ready answers for frequent questions. In a dialog, the templates icon beside Send puts one into your reply.', addButton), body);
  scope.effect(() => renderTemplates(body, store.templates.value));
  store.loadTemplates();
}

function renderTemplates(body, state) {
  if (!state.loaded && state.loading) return setChildren(body, spinner('Loading templates…'));
  if (state.error && !state.loaded) return setChildren(body, emptyState('alert', 'Templates did not load', state.error));
  if (state.items.length === 0)
    return setChildren(body, emptyState('template', 'No templates yet', 'Create your first reply template: a greeting, delivery times, return policy…',
      h('button', { type: 'button', class: 'btn btn-primary', onclick: () => editTemplate(null) }, icon('plus'), 'New template')));
  setChildren(
    body,
    h('div', { class: 'card-list' },
      state.items.map((template) =>
        h('article', { class: 'template-card', dataset: { templateId: template.id } },
          h('div', { class: 'template-card-main' },
            h('h3', { class: 'template-card-name' }, template.name),
            h('p', { class: 'template-card-text' }, template.text),
            h('div', { class: 'template-card-meta' }, 'Updated ', timeAgo(template.updated_at || template.created_at, { long: true })),
          ),
          h('div', { class: 'template-card-actions' },
            h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'edit' }, onclick: () => editTemplate(template) }, icon('edit'), 'Edit'),
            h('button', { type: 'button', class: 'btn btn-ghost btn-small is-danger', dataset: { action: 'delete' }, onclick: () => removeTemplate(template) }, icon('trash'), 'Delete'),
          ),
        ),
      ),
    ),
  );
}

function editTemplate(template) {
  return openModal({
    title: template ? 'Edit template' : 'New template',
    wide: true,
    build: (close) => {
      const name = field('Name', h('input', { type: 'text', name: 'name', value: template?.name || '', required: true, maxlength: 100, placeholder: 'e.g. Delivery times' }));
      const text = field('Text', h('textarea', { name: 'text', rows: 6, required: true, placeholder: 'Hello! We deliver within 2–3 working days…' }));
      text.input.value = template?.text || '';
      const formError = h('div', { class: 'form-error', role: 'alert' });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, template ? 'Save changes' : 'Create template');
      const form = h('form', { class: 'form', novalidate: true }, name.element, text.element, formError,
        h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => close() }, 'Cancel'), save));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const values = { name: name.input.value.trim(), text: text.input.value };
        name.setError(values.name ? '' : 'Give the template a name.');
        text.setError(values.text.trim() ? '' : 'Write the text of the template.');
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
    title: 'Delete template?',
    text: `“${template.name}” will be deleted for everyone in your team. This cannot be undone.`,
    confirmLabel: 'Delete',
    danger: true,
  });
  if (confirmed) store.deleteTemplate(template.id);
}
