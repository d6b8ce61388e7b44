/**
 * The layers a Registry config can name (`backends.<name>.layers`). Private module.
 *
 * @module
 */

import { InvalidConfigError } from "../errors.ts";
import { describe } from "../_options.ts";
import type { Layer } from "../layer.ts";
import { concurrencyLimitLayer } from "./concurrency_limit.ts";
import { logSink } from "./log.ts";
import { observeLayer } from "./observe.ts";
import { timeoutLayer } from "./timeout.ts";

/**
 * A layer in a Registry config (`backends.<name>.layers`), as plain JSON:
 *
 * - `{ "type": "timeout", "ms": 30000 }`: {@link timeoutLayer};
 * - `{ "type": "concurrencyLimit", "limit": 8 }`: {@link concurrencyLimitLayer};
 * - `{ "type": "log", "level": "info" }`: {@link observeLayer} with
 *   {@link logSink} to `console` (`level`: `"info"` (default) or `"debug"`).
 *
 * Layers that need code (a sink function, a tracer) are given to the
 * Registry in code: `new Registry(config, { layers: { name: [...] } })`.
 */
export type LayerConfig =
  | { type: "timeout"; ms: number }
  | { type: "concurrencyLimit"; limit: number }
  | { type: "log"; level?: "info" | "debug" };

const KEYS: Record<LayerConfig["type"], readonly string[]> = {
  timeout: ["type", "ms"],
  concurrencyLimit: ["type", "limit"],
  log: ["type", "level"],
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Builds the layers of `backends.<name>.layers` (outermost first). */
export function layersFromConfig(value: unknown, keyPath: string): Layer[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new InvalidConfigError(`"${keyPath}" must be an array, got ${describe(value)}`);
  }
  return value.map((item: unknown, index) => {
    const path = `${keyPath}[${index}]`;
    if (!isRecord(item)) {
      throw new InvalidConfigError(`"${path}" must be an object, got ${describe(item)}`);
    }
    const type = item.type;
    if (typeof type !== "string" || !Object.hasOwn(KEYS, type)) {
      throw new InvalidConfigError(
        `"${path}.type" must be one of "timeout", "concurrencyLimit", "log", got ${
          typeof type === "string" ? `"${type}"` : describe(type)
        } (layers that need code, such as observeLayer or openTelemetryLayer, are given ` +
          `in code: new Registry(config, { layers: { backendName: [...] } }))`,
      );
    }
    const known = KEYS[type as LayerConfig["type"]];
    for (const key of Object.keys(item)) {
      if (!known.includes(key)) {
        throw new InvalidConfigError(
          `"${path}.${key}" is not a known key of a "${type}" layer (known keys: ${
            known.join(", ")
          })`,
        );
      }
    }
    try {
      switch (type) {
        case "timeout":
          return timeoutLayer({ ms: item.ms as number });
        case "concurrencyLimit":
          return concurrencyLimitLayer({ limit: item.limit as number });
        default:
          return observeLayer({
            sink: logSink(console, { level: item.level as "info" | "debug" | undefined }),
          });
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : describe(error);
      throw new InvalidConfigError(`"${path}" is invalid: ${reason}`, { cause: error });
    }
  });
}
