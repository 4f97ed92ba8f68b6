// The console's one store: state as signals, the actions that change it, and
// the table that turns each socket frame into an action. Views only read the
// signals and call the exported actions.
//
// This file is the one entry point (views import * as store from it); the
// state and its actions live in store/, one concern a module. Only the names
// below are the store's: a module's other exports are for the other store
// modules.

export { route } from './router.js';
export { toasts, notify, dismissToast } from './store/toasts.js';
export {
  session, soundOn, me, start, login, logout, sessionEnded, signInAgain, acceptInvitation,
  requestPasswordReset, confirmPasswordReset, setLanguage, setSound, followRoute,
} from './store/session.js';
export {
  counts, filter, dialogs, dialogList, refreshCounts, setFilter, matchesFilter, loadDialogList,
  loadMoreDialogs, assignDialog, closeDialog, reopenDialog, selectedDialogs, toggleSelected,
  clearSelection, bulkDialogs,
} from './store/dialogs.js';
export {
  thread, openDialog, loadOlderMessages, markDialogRead, onIncomingVisitorMessage,
} from './store/thread.js';
export { outbox, send, retrySend, discardSend } from './store/sending.js';
export { uploads, attachFiles, removeUpload, isUploading, readyAttachments, takeAttachments } from './store/uploads.js';
export {
  contacts, timeline, contactDialogs, search, contactPanelTab, loadContact, updateContact,
  showTimeline, currentContactId, loadTimeline, loadMoreTimeline, writeToContact, searchContacts,
  closeSearch,
} from './store/contacts.js';
export {
  managers, templates, integrations, sessions, widgetSettings, loadManagers, managerById,
  inviteManager, updateManager, loadTemplates, saveTemplate, deleteTemplate, loadSessions,
  endSession, endOtherSessions, blocks, loadBlocks, blockContact, liftBlock, knowIntegrations,
  loadIntegrations, managerSound, loadWidgetSettings, saveWidgetSettings, previewHiddenPages,
  newIdentitySecret,
} from './store/settings.js';
export { visitors, loadVisitors, sortedVisitors } from './store/visitors.js';
export { connection } from './store/socket.js';
