// Settings → Blocked visitors: who was blocked (from their dialog, or by
// marking dialogs as spam), when and by whom; lift a block to let them write
// again.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { contactDisplayName, dateTime } from '../format.js';
import { contactAvatar, confirmAction, spinner, emptyState, pageHeader } from './common.js';

export function mountBlocksPage(container, scope) {
  const body = h('div', { class: 'page-body' });
  container.append(pageHeader('Blocked visitors', 'Their chat is closed: they cannot write to you, from the browser or the address they were blocked on.'), body);
  scope.effect(() => renderBlocks(body, store.blocks.value, store.managers.value));
  store.loadBlocks();
}

function renderBlocks(body, state, managers) {
  if (!state.loaded && state.loading) return setChildren(body, spinner('Loading blocked visitors…'));
  if (state.error && !state.loaded) return setChildren(body, emptyState('alert', 'Blocked visitors did not load', state.error));
  if (state.items.length === 0) return setChildren(body, emptyState('lock', 'Nobody is blocked', 'Block a visitor from their dialog, or mark dialogs as spam in the list.'));
  setChildren(
    body,
    h('div', { class: 'card-list' },
      state.items.map((block) => {
        const name = contactDisplayName(block.contact_name, block.contact_id);
        const by = managers.find((manager) => manager.id === block.blocked_by)?.name || 'a manager';
        return h('article', { class: 'session-card block-card', dataset: { blockId: block.id } },
          contactAvatar(block.contact_name, block.contact_id, { size: 'sm' }),
          h('div', { class: 'session-main' },
            h('div', { class: 'session-device' }, name, block.reason === 'spam' ? h('span', { class: 'chip chip-muted' }, 'Spam') : null),
            h('div', { class: 'session-meta' }, `Blocked by ${by} · ${dateTime(block.created_at)}`),
          ),
          h('button', { type: 'button', class: 'btn btn-ghost btn-small', dataset: { action: 'unblock' }, onclick: () => confirmLift(block, name) }, icon('reopen'), 'Unblock'),
        );
      }),
    ),
  );
}

async function confirmLift(block, name) {
  const confirmed = await confirmAction({
    title: `Unblock ${name}?`,
    text: 'Their chat works again from their next visit.',
    confirmLabel: 'Unblock',
  });
  if (confirmed) store.liftBlock(block.id);
}
