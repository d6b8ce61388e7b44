/**
 * A tiny command-line flag parser for the CLI (no dependency). Private module.
 *
 * @module
 */

/** A usage mistake: bad flags or arguments. The CLI exits with code 2. */
export class UsageError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the command line.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What flags a command accepts. */
export interface FlagSpec {
  /** Boolean flags by long name (`recursive` for `--recursive`). */
  booleans?: readonly string[];
  /** Flags that take a value (`--expires 1h`, `--expires=1h`). */
  strings?: readonly string[];
  /** Short letter -> long name (`r` -> `recursive`). */
  short?: Record<string, string>;
}

/** The parsed command line: flags by long name and the positional arguments. */
export interface ParsedArgs {
  /** Flag values: `true` for booleans, the text for string flags. */
  flags: Record<string, string | boolean>;
  /** Arguments that are not flags, in order (`-` counts as a positional). */
  positionals: string[];
}

/**
 * Parses `--long`, `--long=value`, `--long value`, `-s`, grouped short
 * booleans (`-rl`), `--` (everything after is positional) and `-` (a
 * positional). Unknown flags are usage errors.
 *
 * @param argv The arguments after the command name.
 * @param spec The flags the command accepts.
 * @returns Flags and positionals.
 * @throws {UsageError} For an unknown flag, a missing value, or a value given to a boolean.
 */
export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const booleans = new Set(spec.booleans ?? []);
  const strings = new Set(spec.strings ?? []);
  const short = spec.short ?? {};
  const flags: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (booleans.has(name)) {
        if (eq >= 0) throw new UsageError(`option --${name} does not take a value`);
        flags[name] = true;
      } else if (strings.has(name)) {
        const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`option --${name} needs a value`);
        flags[name] = value;
      } else {
        throw new UsageError(`unknown option --${name}`);
      }
      continue;
    }
    if (arg.startsWith("-") && arg !== "-") {
      const letters = arg.slice(1);
      for (let j = 0; j < letters.length; j++) {
        const letter = letters[j]!;
        const name = Object.hasOwn(short, letter) ? short[letter]! : undefined;
        if (name === undefined) throw new UsageError(`unknown option -${letter}`);
        if (strings.has(name)) {
          const rest = letters.slice(j + 1);
          const value = rest !== "" ? rest : argv[++i];
          if (value === undefined) throw new UsageError(`option -${letter} needs a value`);
          flags[name] = value;
          break;
        }
        flags[name] = true;
      }
      continue;
    }
    positionals.push(arg);
  }
  return { flags, positionals };
}
