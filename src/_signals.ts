/**
 * Combining abort signals on every runtime. Private module.
 *
 * @module
 */

/**
 * A signal that aborts when any of `signals` aborts, with that signal's
 * reason: `AbortSignal.any` where the runtime has it, otherwise (Vercel's
 * edge-runtime) an `AbortController` fed by listeners that are removed once
 * it aborts.
 *
 * @param signals The signals to follow.
 * @returns The combined signal.
 */
export function anySignal(signals: readonly AbortSignal[]): AbortSignal {
  if (typeof AbortSignal.any === "function") return AbortSignal.any([...signals]);
  const controller = new AbortController();
  const already = signals.find((s) => s.aborted);
  if (already) {
    controller.abort(already.reason);
    return controller.signal;
  }
  const listeners = signals.map((source) => {
    const onAbort = () => {
      controller.abort(source.reason);
      signals.forEach((s, i) => s.removeEventListener("abort", listeners[i]!));
    };
    source.addEventListener("abort", onAbort, { once: true });
    return onAbort;
  });
  return controller.signal;
}
