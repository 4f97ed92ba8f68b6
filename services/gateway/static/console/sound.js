// The incoming-message sounds, synthesized with WebAudio (no audio files):
// chime, bell and pop, the same names the widget settings use for what
// managers and visitors hear ("none" is silence). Also the console's on/off
// preference, kept in localStorage.

const STORAGE_KEY = 'console.sound';
const MIN_GAP_MS = 1000;
let context = null;

/** The names the widget settings accept, in the order a select lists them. */
export const SOUND_NAMES = ['chime', 'bell', 'pop', 'none'];

export function loadSoundPreference() {
  try {
    return localStorage.getItem(STORAGE_KEY) !== 'off';
  } catch {
    return true;
  }
}

export function saveSoundPreference(on) {
  try {
    localStorage.setItem(STORAGE_KEY, on ? 'on' : 'off');
  } catch {
    // Private mode: the switch still works for this tab.
  }
}

function audioContext() {
  const AudioContextClass = window.AudioContext || window.webkitAudioContext;
  if (!AudioContextClass) return null;
  if (!context) context = new AudioContextClass();
  return context;
}

/** Browsers start audio only after a user gesture: unlock on the first one. */
export function unlockAudioOnFirstGesture() {
  const unlock = () => {
    audioContext()?.resume?.();
    window.removeEventListener('pointerdown', unlock);
    window.removeEventListener('keydown', unlock);
  };
  window.addEventListener('pointerdown', unlock);
  window.addEventListener('keydown', unlock);
}

/**
 * One voice: an oscillator through a gain envelope (fast attack, exponential
 * decay). sweepTo glides the pitch down over the note (the "pop").
 */
function tone(ctx, { frequency, startAt, duration, peak, type = 'sine', attack = 0.02, sweepTo = null }) {
  const oscillator = ctx.createOscillator();
  const gain = ctx.createGain();
  oscillator.type = type;
  oscillator.frequency.setValueAtTime(frequency, startAt);
  if (sweepTo) oscillator.frequency.exponentialRampToValueAtTime(sweepTo, startAt + duration);
  gain.gain.setValueAtTime(0.0001, startAt);
  gain.gain.exponentialRampToValueAtTime(peak, startAt + attack);
  gain.gain.exponentialRampToValueAtTime(0.0001, startAt + duration);
  oscillator.connect(gain).connect(ctx.destination);
  oscillator.start(startAt);
  oscillator.stop(startAt + duration + 0.05);
}

const VOICES = {
  /** A short rising two-tone chime: E6 then A6. */
  chime: (ctx, start) => {
    tone(ctx, { frequency: 1318.5, startAt: start, duration: 0.35, peak: 0.12 });
    tone(ctx, { frequency: 1760, startAt: start + 0.12, duration: 0.5, peak: 0.1 });
  },
  /** A struck bell: A5 with the inharmonic partials of a bell, ringing out over a second. */
  bell: (ctx, start) => {
    const fundamental = 880;
    for (const [ratio, peak, duration] of [[1, 0.11, 1.4], [2.0, 0.05, 1.0], [2.76, 0.04, 0.7], [5.4, 0.02, 0.35]]) {
      tone(ctx, { frequency: fundamental * ratio, startAt: start, duration, peak, attack: 0.005 });
    }
  },
  /** A soft bubble pop: a quick downward glide. */
  pop: (ctx, start) => {
    tone(ctx, { frequency: 740, sweepTo: 180, startAt: start, duration: 0.12, peak: 0.2, type: 'triangle', attack: 0.004 });
    tone(ctx, { frequency: 1480, sweepTo: 360, startAt: start, duration: 0.07, peak: 0.05, attack: 0.003 });
  },
};

function play(name) {
  const voice = VOICES[name];
  const ctx = voice ? audioContext() : null;
  if (!ctx || ctx.state === 'suspended') return false;
  voice(ctx, ctx.currentTime + 0.01);
  return true;
}

let lastPlayedAt = 0;

/** The sound of an incoming message (chime, bell, pop; none is silent); at most one per second. */
export function playSound(name) {
  const now = Date.now();
  if (!VOICES[name] || now - lastPlayedAt < MIN_GAP_MS) return;
  if (play(name)) lastPlayedAt = now;
}

/** The default sound, for callers that do not name one. */
export function playChime() {
  playSound('chime');
}

/** A preview from a click (a user gesture, so the audio may start now); not rate-limited. */
export async function previewSound(name) {
  const ctx = VOICES[name] ? audioContext() : null;
  if (!ctx) return;
  if (ctx.state === 'suspended') await ctx.resume?.();
  play(name);
}
