// Settings → Blocked visitors: who was blocked (from their dialog, or by
// marking dialogs as spam), when and by whom; lift a block to let them write
// again.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { contactDisplayName, dateTime } from '../format.js';
import { contactAvatar, confirmAction, spinner, emptyState, pageHeader } from './common.js';
import { t } from '../i18n.js';

export function mountBlocksPage(container, scope) {
  const body = h('div', { class: 'page-body' });
  container.append(pageHeader(t('settings_blocks.title'), t('settings_blocks.description')), body);
  scope.effect(() => renderBlocks(body, store.blocks.value, store.managers.value));
  store.loadBlocks();
}

function renderBlocks(body, state, managers) {
  if (!state.loaded && state.loading) return setChildren(body, spinner(t('settings_blocks.loading')));
  if (state.error && !state.loaded) return setChildren(body, emptyState('alert', t('settings_blocks.load_failed'), state.error));
  if (state.items.length === 0) return setChildren(body, emptyState('lock', t('settings_blocks.empty_title'), t('settings_blocks.empty_text')));
  setChildren(
    body,
    h('div', { class: 'card-list' },
      state.items.map((block) => {
        const name = contactDisplayName(block.contact_name, block.contact_id);
        const by = managers.find((manager) => manager.id === block.blocked_by)?.name || t('settings_blocks.a_manager');
        return h('article', { class: 'session-card block-card', dataset: { blockId: block.id } },
          contactAvatar(block.contact_name, block.contact_id, { size: 'sm' }),
          h('div', { class: 'session-main' },
            h('div', { class: 'session-device' }, name, block.reason === 'spam' ? h('span', { class: 'chip chip-muted' }, t('dialog_list.spam')) : null),
            h('div', { class: 'session-meta' }, t('settings_blocks.blocked_by', { by, date: dateTime(block.created_at) })),
          ),
          h('button', { type: 'button', class: 'btn btn-ghost btn-small', dataset: { action: 'unblock' }, onclick: () => confirmLift(block, name) }, icon('reopen'), t('settings_blocks.unblock')),
        );
      }),
    ),
  );
}

async function confirmLift(block, name) {
  const confirmed = await confirmAction({
    title: t('settings_blocks.unblock_title', { name }),
    text: t('settings_blocks.unblock_text'),
    confirmLabel: t('settings_blocks.unblock'),
  });
  if (confirmed) store.liftBlock(block.id);
}
