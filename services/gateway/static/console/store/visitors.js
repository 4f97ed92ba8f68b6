// Visitors on the site: who has a page with the widget open now (GET
// /visitors, then the visitor_online and visitor_offline frames).

import { signal } from '../signals.js';
import * as api from '../api.js';

/** Who has a page with the widget open now, by contact id (GET /visitors, then the socket). */
export const visitors = signal(emptyVisitors());

export function emptyVisitors() {
  return { byId: new Map(), loaded: false, loading: false, error: null };
}

// Frames that arrive while the list is loading are applied to what is shown
// and kept, to be replayed on top of the loaded list (Phoenix presence's
// pendingDiffs): the list never misses an arrival or a departure.
let visitorsGeneration = 0;
let pendingVisitorChanges = null;

export async function loadVisitors() {
  const generation = ++visitorsGeneration;
  pendingVisitorChanges = [];
  visitors.update((current) => ({ ...current, loading: true, error: null }));
  try {
    const answer = await api.listVisitors({ background: true });
    if (generation !== visitorsGeneration) return;
    const byId = new Map(answer.visitors.map((visitor) => [visitor.contact_id, visitor]));
    const changes = pendingVisitorChanges;
    pendingVisitorChanges = null;
    for (const change of changes) change(byId);
    visitors.value = { byId, loaded: true, loading: false, error: null };
  } catch (error) {
    if (generation !== visitorsGeneration) return;
    pendingVisitorChanges = null;
    visitors.update((current) => ({ ...current, loading: false, error: api.describeError(error) }));
  }
}

/** At sign-out: a load under way is ignored when it answers, and no frame waits for it. */
export function abandonVisitorsLoad() {
  visitorsGeneration++;
  pendingVisitorChanges = null;
}

export function visitorsChanged(change) {
  if (pendingVisitorChanges) pendingVisitorChanges.push(change);
  const current = visitors.peek();
  if (!current.loaded) return;
  const byId = new Map(current.byId);
  change(byId);
  visitors.value = { ...current, byId };
}

/** Who is on the site, the most recent arrival first. */
export function sortedVisitors(byId) {
  return [...byId.values()].sort((a, b) => (Date.parse(b.visit_started_at) || 0) - (Date.parse(a.visit_started_at) || 0));
}
