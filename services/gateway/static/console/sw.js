// The console's service worker: shows a browser push (a visitor wrote
// while the manager was away from the console) as a notification, and opens
// the dialog when it is clicked, in an open console if there is one. Its
// words are the push's own (the server writes them); a worker has no
// catalogue, so a push without a title takes its body, else the site's name.

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : '' };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || data.body || new URL(self.registration.scope).host, {
      body: data.title ? data.body || '' : '',
      tag: data.tag || undefined,
      data: { url: data.url || self.registration.scope },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data?.url || self.registration.scope;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = windows.find((client) => client.url.startsWith(self.registration.scope));
    if (!open) {
      await self.clients.openWindow(url);
      return;
    }
    // The console opens the dialog itself (it need not reload), then comes
    // to the front.
    open.postMessage({ type: 'open', url });
    try {
      await open.focus();
    } catch {
      // Focus is the browser's to give.
    }
  })());
});
