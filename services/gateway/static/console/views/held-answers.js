// Answers by e-mail from an address that is not the contact's, held above
// the composer: who wrote, what, and "Post as the contact's message". They
// are asked for when the dialog opens and again whenever a note comes (the
// notification service adds one with each answer it holds).

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as api from '../api.js';
import * as store from '../store.js';
import { untracked } from '../signals.js';
import { t } from '../i18n.js';

export function mountHeldAnswers(slot, scope, dialogId) {
  let asked = -1;
  let disposed = false;
  scope.onDispose(() => (disposed = true));
  const refresh = async () => {
    try {
      const { answers } = await api.listHeldAnswers(dialogId);
      if (!disposed) render(slot, answers.filter((answer) => !answer.message_id), refresh);
    } catch {
      // The list is a convenience: the note in the thread says the same.
    }
  };
  scope.effect(() => {
    const thread = store.thread.value;
    if (thread.dialogId !== dialogId) return;
    const notes = thread.notes.length;
    if (notes === asked) return;
    asked = notes;
    untracked(refresh);
  });
}

function render(slot, answers, refresh) {
  slot.hidden = answers.length === 0;
  setChildren(slot, ...answers.map((answer) => heldAnswer(answer, refresh)));
}

function heldAnswer(answer, refresh) {
  const accept = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, t('held_answers.post'));
  const problem = h('span', { class: 'held-problem', role: 'alert' });
  accept.onclick = async () => {
    accept.disabled = true;
    problem.textContent = '';
    try {
      await api.acceptHeldAnswer(answer.id);
      await refresh();
    } catch (error) {
      accept.disabled = false;
      problem.textContent = error instanceof api.ApiError ? api.describeError(error) : t('held_answers.failed');
    }
  };
  // The sender's address in bold, where the language puts it.
  const [before, after] = t('held_answers.from').split('{address}');
  return h(
    'div',
    { class: 'held-answer', dataset: { heldAnswerId: answer.id } },
    icon('mail'),
    h(
      'div',
      { class: 'held-body' },
      h('div', { class: 'held-from' }, before || null, h('strong', {}, answer.from_address), after || null),
      h('div', { class: 'held-text' }, answer.text),
      problem,
    ),
    accept,
  );
}
