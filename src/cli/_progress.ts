/**
 * The progress bar `cp` and `mv` draw on stderr when it is a terminal.
 * Private module.
 *
 * @module
 */

/** Where the progress bar is drawn (stderr). */
export interface ProgressSink {
  /** Writes text. */
  write(text: string): unknown;
}

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Draw at all (stderr is a terminal). When `false` every method is a no-op. */
  enabled: boolean;
  /** Milliseconds between redraws (default 100: at most ten per second). */
  interval?: number;
  /** The clock (default `performance.now`); tests pass a fake one. */
  now?: () => number;
}

const MIB = 1024 * 1024;
const BAR_WIDTH = 24;
/** Erases from the cursor to the end of the line. */
const ERASE = "\x1b[K";

/**
 * A byte count for people: `512 B`, `1.5 KiB`, `12.3 MiB`, `2.00 GiB`.
 *
 * @param bytes The count.
 * @returns The formatted count.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < MIB) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * MIB) return `${(bytes / MIB).toFixed(1)} MiB`;
  return `${(bytes / (1024 * MIB)).toFixed(2)} GiB`;
}

function formatRate(bytes: number, ms: number): string {
  return ms > 0 ? `${(bytes / MIB / (ms / 1000)).toFixed(1)} MiB/s` : "-- MiB/s";
}

/**
 * One progress line: bar, percentage, bytes done of total, and speed.
 *
 * @param loaded Bytes done.
 * @param total Bytes in all (known).
 * @param elapsedMs Milliseconds since the start.
 * @returns For example `[######------------------]  25%  16.0 MiB / 64.0 MiB  80.0 MiB/s`.
 */
export function formatProgress(loaded: number, total: number, elapsedMs: number): string {
  const fraction = total > 0 ? Math.min(1, loaded / total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = "#".repeat(filled) + "-".repeat(BAR_WIDTH - filled);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `[${bar}] ${percent}  ${formatBytes(loaded)} / ${formatBytes(total)}  ${
    formatRate(loaded, elapsedMs)
  }`;
}

/**
 * A progress bar redrawn in place with `\r`, at most every `interval`
 * milliseconds (plus the final, complete frame), only while the total size is
 * known. {@link Progress.finish}
 * clears it and prints one completion line; {@link Progress.clear} only clears.
 */
export class Progress {
  readonly #sink: ProgressSink;
  readonly #enabled: boolean;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #start: number;
  #lastDraw = -Infinity;
  #drawn = false;
  #drewFinal = false;
  #loaded = 0;
  #total: number | undefined;

  /**
   * Creates the bar; nothing is drawn until the first update.
   *
   * @param sink Where to draw (stderr).
   * @param options `enabled`, `interval`, `now`.
   */
  constructor(sink: ProgressSink, options: ProgressOptions) {
    this.#sink = sink;
    this.#enabled = options.enabled;
    this.#interval = options.interval ?? 100;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /**
   * Records progress and redraws when the interval has passed (the first
   * update with a known total and the final one, all bytes done, always draw).
   *
   * @param loaded Bytes done so far.
   * @param total Bytes in all, when known.
   */
  update(loaded: number, total?: number): void {
    this.#loaded = loaded;
    if (total !== undefined) this.#total = total;
    if (!this.#enabled || this.#total === undefined) return;
    const now = this.#now();
    // The final frame (everything done) is always drawn, however soon it comes.
    const final = loaded >= this.#total;
    if (this.#drawn && (final ? this.#drewFinal : now - this.#lastDraw < this.#interval)) return;
    this.#drewFinal = final;
    this.#lastDraw = now;
    this.#drawn = true;
    this.#sink.write(`\r${formatProgress(loaded, this.#total, now - this.#start)}${ERASE}`);
  }

  /** Erases the bar, if one was drawn. */
  clear(): void {
    if (this.#drawn) this.#sink.write(`\r${ERASE}`);
    this.#drawn = false;
  }

  /**
   * Erases the bar and, when a bar was shown, prints one completion line
   * such as `copied 64.0 MiB in 0.8 s (80.0 MiB/s)`.
   *
   * @param verb What was done (`copied`, `moved`).
   */
  finish(verb: string): void {
    if (!this.#drawn) return;
    this.clear();
    const bytes = this.#total ?? this.#loaded;
    const ms = this.#now() - this.#start;
    this.#sink.write(
      `${verb} ${formatBytes(bytes)} in ${(ms / 1000).toFixed(1)} s (${formatRate(bytes, ms)})\n`,
    );
  }
}
