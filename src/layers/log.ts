/**
 * A logging sink for the observe layer.
 *
 * @module
 */

import type { EventSink, OperationEvent } from "./observe.ts";

/** What {@link logSink} writes to: `console`, or any logger with these methods. */
export interface EventLogger {
  /** Receives successful and cancelled operations (unless `level` is `"debug"`). */
  info(message: string): void;
  /** Receives failed operations. */
  warn(message: string): void;
  /** Receives successful and cancelled operations when `level` is `"debug"`. */
  debug?(message: string): void;
}

/** Options of {@link logSink}. */
export interface LogSinkOptions {
  /** The level of operations that did not fail (default `"info"`); failures are always `warn`. */
  level?: "info" | "debug";
}

function describeEvent(event: OperationEvent): string {
  let line = `remote-store ${event.operation} ${JSON.stringify(event.path)}`;
  if (event.target !== undefined) line += ` -> ${JSON.stringify(event.target)}`;
  line += ` (backend ${JSON.stringify(event.backend)}): ${event.outcome}`;
  if (event.errorCode !== undefined) line += ` ${event.errorCode}`;
  if (event.bytes !== undefined) line += `, ${event.bytes} bytes`;
  line += `, ${event.durationMs.toFixed(1)} ms`;
  return line;
}

/**
 * A sink for {@link observeLayer} that writes one line per operation: the
 * operation, the backend key, the backend name, the outcome, the error code,
 * the bytes and the duration. It never writes option values, contents or
 * error messages, so no secret reaches the log.
 *
 * @param logger Where to write (default `console`).
 * @param options `level` for operations that did not fail.
 * @returns The sink.
 *
 * @example Log every operation to the console
 * ```ts
 * import { logSink, MemoryBackend, observeLayer, Store, withLayers } from "@remote-store/remote-store";
 * const store = new Store(withLayers(new MemoryBackend(), [observeLayer({ sink: logSink() })]));
 * await store.write("a.txt", "hi");
 * // remote-store writeBytes "a.txt" (backend "memory"): ok, 2 bytes, 0.1 ms
 * ```
 */
export function logSink(logger: EventLogger = console, options: LogSinkOptions = {}): EventSink {
  const level = options.level ?? "info";
  if (level !== "info" && level !== "debug") {
    throw new TypeError(`logSink level must be "info" or "debug", got ${JSON.stringify(level)}`);
  }
  return (event) => {
    const line = describeEvent(event);
    if (event.outcome === "error") logger.warn(line);
    else if (level === "debug" && logger.debug) logger.debug(line);
    else logger.info(line);
  };
}
