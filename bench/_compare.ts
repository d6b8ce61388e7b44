/**
 * One comparison: every contender measured `reps` times, interleaved with the
 * order rotated each repetition; medians and ratios to the raw SDK, and the
 * rule that a contender failing any repetition is not ranked.
 *
 * @module
 */

import process from "node:process";
import { describe } from "./_impls.ts";
import { median, MiB, rotation, round } from "./_lib.ts";

/** One contender in one comparison, over all repetitions. */
export interface Measurement {
  case: string;
  impl: string;
  label: string;
  unit: string;
  /** Bigger is better for MiB/s, ops/s and items/s; smaller for MiB of memory. */
  values: number[];
  median: number;
  /** Wall-clock seconds of each repetition. */
  seconds: number[];
  /** CPU milliseconds (user + system) of this process in each repetition. */
  cpuMs?: number[];
  /** Peak RSS growth (MiB) of this process during each repetition (indicative in-process). */
  rssGrowthMiB?: number[];
  /** Median relative to the raw SDK's median (only for the same case). */
  ratioToRaw?: number;
  /** Set when a repetition failed: the contender is not ranked in this case (no median, no ratio). */
  error?: string;
  notes?: string[];
  [extra: string]: unknown;
}

/** One repetition's sample. */
export interface Sample {
  value: number;
  seconds: number;
  cpuMs?: number;
  rssGrowth?: number;
}

export interface Contender {
  id: string;
  label: string;
  notes?: string[];
  /** Runs one timed repetition. */
  run(rep: number): Promise<Sample>;
  /** Untimed work after each repetition (deleting what it wrote). */
  after?(rep: number): Promise<void>;
}

/**
 * Measures every contender `reps` times, interleaved, with the order
 * rotated each repetition. A contender that throws is recorded with the
 * error, dropped from later repetitions and not ranked in this case: no
 * median, no ratio (a median of the repetitions that passed would flatter
 * it). When the raw SDK fails, nobody gets a ratio.
 */
export async function compare(
  caseId: string,
  unit: string,
  contenders: Contender[],
  reps: number,
): Promise<Measurement[]> {
  const results = new Map<string, Measurement>();
  for (const c of contenders) {
    results.set(c.id, {
      case: caseId,
      impl: c.id,
      label: c.label,
      unit,
      values: [],
      median: NaN,
      seconds: [],
      cpuMs: [],
      rssGrowthMiB: [],
      notes: c.notes,
    });
  }
  let active = [...contenders];
  for (let rep = 0; rep < reps; rep++) {
    for (const c of rotation(active, rep)) {
      const m = results.get(c.id)!;
      try {
        const sample = await c.run(rep);
        m.values.push(round(sample.value, 2));
        m.seconds.push(round(sample.seconds, 3));
        if (sample.cpuMs !== undefined) m.cpuMs!.push(Math.round(sample.cpuMs));
        if (sample.rssGrowth !== undefined) m.rssGrowthMiB!.push(round(sample.rssGrowth / MiB, 1));
        await c.after?.(rep);
      } catch (error) {
        m.error = `repetition ${rep + 1} of ${reps}: ${describe(error)}`;
        active = active.filter((x) => x !== c);
        console.log(`  ${caseId} ${c.id}: FAILED ${m.error}`);
      }
    }
    process.stdout.write(`  ${caseId}: repetition ${rep + 1}/${reps} done\n`);
  }
  const raw = results.get("raw-sdk");
  for (const m of results.values()) {
    if (m.values.length > 0 && !m.error) m.median = round(median(m.values), 2);
    if (m.cpuMs!.length === 0) delete m.cpuMs;
    if (m.rssGrowthMiB!.length === 0) delete m.rssGrowthMiB;
  }
  for (const m of results.values()) {
    if (raw && !raw.error && !m.error && m.values.length > 0 && raw.values.length > 0) {
      m.ratioToRaw = round(m.median / raw.median, 3);
      // Ratio to the raw SDK within each repetition (adjacent runs), less exposed to drifting load.
      const paired = m.values.slice(0, raw.values.length).map((v, i) => v / raw.values[i]!);
      m.pairedRatioMedian = round(median(paired), 3);
    }
  }
  return [...results.values()];
}
