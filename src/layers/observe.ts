/**
 * The observe layer: one event per backend operation.
 *
 * @module
 */

import type { Backend } from "../backend.ts";
import type { Layer, LayerContext } from "../layer.ts";
import {
  InstrumentedBackend,
  type OperationName,
  type OperationOutcome,
  type ProbeSession,
} from "./_instrument.ts";

export type { OperationName, OperationOutcome };

/**
 * One finished backend operation. Plain data (JSON-able); it holds paths and
 * error codes, never option values, contents or error messages.
 */
export interface OperationEvent {
  /** The backend method: `"read"`, `"writeBytes"`, `"list"`, ... */
  operation: OperationName;
  /**
   * The backend key the operation was about: the store's root path joined
   * with the store-relative path (a layer wraps the backend, which every
   * store and child store share, so it sees keys, not store paths). For
   * `copy` and `move`, the source.
   */
  path: string;
  /** For `copy` and `move`: the destination key. */
  target?: string;
  /** The backend name: the Registry's name for it, or the backend's type name. */
  backend: string;
  /**
   * Bytes moved, where the operation moves content: delivered by a `read`
   * stream (also when it ended early) or `readBytes`, stored by a successful
   * `write` / `writeBytes`. Absent for the other operations.
   */
  bytes?: number;
  /** When the operation started (milliseconds since the epoch). */
  startTime: number;
  /**
   * Milliseconds from the call to its end. A streaming `read` ends when its
   * stream ends, errors or is cancelled; a `list` when its iteration ends
   * (or is left early); the others when their promise settles.
   */
  durationMs: number;
  /** `"ok"`, `"error"` or `"cancelled"` (aborted by the caller's signal, or a stream / listing left early). */
  outcome: OperationOutcome;
  /**
   * With `"error"`: the library error's `code` (`"NOT_FOUND"`,
   * `"BACKEND_UNAVAILABLE"`, ...) or, for other errors, their class name
   * (`"TypeError"`, `"RangeError"`).
   */
  errorCode?: string;
}

/** Receives each event. A sink that throws is ignored (it never fails the operation). */
export type EventSink = (event: OperationEvent) => void;

/** Options of {@link observeLayer}. */
export interface ObserveOptions {
  /** Receives one event per finished operation (see {@link logSink} for a ready one). */
  sink: EventSink;
}

/**
 * A layer that emits one {@link OperationEvent} per backend operation, when
 * the operation has ended (a streaming read: when its stream closed, errored
 * or was cancelled). Events are per backend call: one Store method may make
 * more than one (`exists` on a folder: `getFileInfo`, then `isFolder`;
 * `read` with `onProgress`: `getFileInfo`, then `read`); a call the Store
 * refuses before any I/O (a bad path, a missing capability, an already
 * aborted signal) reaches no backend and has no event. A stream nobody reads
 * to the end nor cancels, and a listing nobody finishes nor leaves, are still
 * in progress: their event comes when they end.
 *
 * @param options `sink`: the function that receives the events.
 * @returns The layer.
 * @throws {TypeError} When `sink` is not a function.
 *
 * @example Collect events of a store and its children
 * ```ts
 * import { MemoryBackend, observeLayer, type OperationEvent, Store, withLayers } from "@remote-store/remote-store";
 * const events: OperationEvent[] = [];
 * const store = new Store(withLayers(new MemoryBackend(), [observeLayer({ sink: (e) => events.push(e) })]));
 * await store.child("reports").write("q1.csv", "a,b\n");
 * console.log(events[0]?.operation, events[0]?.path, events[0]?.bytes); // writeBytes reports/q1.csv 4
 * ```
 */
export function observeLayer(options: ObserveOptions): Layer {
  const sink = options?.sink;
  if (typeof sink !== "function") {
    throw new TypeError(`observeLayer needs a "sink" function, got ${typeof sink}`);
  }
  return {
    name: "observe",
    wrap(backend: Backend, context: LayerContext): Backend {
      return new InstrumentedBackend(backend, (start): ProbeSession => {
        const startTime = Date.now();
        const started = performance.now();
        return {
          run: (call) => call(),
          end(end) {
            const event: OperationEvent = {
              operation: start.operation,
              path: start.path,
              backend: start.backend,
              startTime,
              durationMs: performance.now() - started,
              outcome: end.outcome,
            };
            if (start.target !== undefined) event.target = start.target;
            if (end.bytes !== undefined) event.bytes = end.bytes;
            if (end.errorCode !== undefined) event.errorCode = end.errorCode;
            try {
              sink(event);
            } catch {
              // A sink never fails the operation it reports.
            }
          },
        };
      }, context.backendName);
    },
  };
}
