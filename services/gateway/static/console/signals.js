// Tiny reactive core for the console: signals hold state, effects re-run
// when a signal they read changes, batch() groups many writes into one
// round of updates. A few dozen lines in the spirit of Preact Signals.

let currentEffect = null;
let batchDepth = 0;
const queued = new Set();

export function signal(initial) {
  let value = initial;
  const subscribers = new Set();
  return {
    get value() {
      if (currentEffect) {
        subscribers.add(currentEffect);
        currentEffect.sources.add(subscribers);
      }
      return value;
    },
    set value(next) {
      if (Object.is(next, value)) return;
      value = next;
      for (const effect of [...subscribers]) schedule(effect);
    },
    /** Reads without subscribing the running effect. */
    peek() {
      return value;
    },
    /** Replaces the value with update(value): for objects treated as immutable. */
    update(update) {
      this.value = update(value);
    },
  };
}

function schedule(effect) {
  if (batchDepth > 0) queued.add(effect);
  else run(effect);
}

function run(effect) {
  if (effect.disposed || effect.running) return;
  for (const source of effect.sources) source.delete(effect);
  effect.sources.clear();
  const previous = currentEffect;
  currentEffect = effect;
  effect.running = true;
  try {
    effect.fn();
  } catch (error) {
    console.error('effect failed', error);
  } finally {
    effect.running = false;
    currentEffect = previous;
  }
}

/** Runs fn now and again whenever a signal it read changes; returns a disposer. */
export function effect(fn) {
  const handle = { fn, sources: new Set(), disposed: false, running: false };
  run(handle);
  return () => {
    handle.disposed = true;
    for (const source of handle.sources) source.delete(handle);
    handle.sources.clear();
  };
}

/** Runs fn without tracking the signals it reads. */
export function untracked(fn) {
  const previous = currentEffect;
  currentEffect = null;
  try {
    return fn();
  } finally {
    currentEffect = previous;
  }
}

/** Applies every write made inside fn, then runs each affected effect once. */
export function batch(fn) {
  batchDepth++;
  try {
    return fn();
  } finally {
    batchDepth--;
    if (batchDepth === 0) {
      while (queued.size > 0) {
        const effects = [...queued];
        queued.clear();
        for (const effect of effects) run(effect);
      }
    }
  }
}

/** A group of effects and clean-ups that a view disposes of together. */
export function createScope() {
  const disposers = [];
  return {
    effect(fn) {
      disposers.push(effect(fn));
    },
    onDispose(fn) {
      disposers.push(fn);
    },
    dispose() {
      while (disposers.length > 0) disposers.pop()();
    },
  };
}
