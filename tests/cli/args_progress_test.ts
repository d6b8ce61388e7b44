// The CLI's flag parser and progress bar, as units.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseArgs, UsageError } from "../../src/cli/_args.ts";
import { formatBytes, formatProgress, Progress } from "../../src/cli/_progress.ts";

/** Makes the erase-line escape visible for matching. */
const el = (s: string) => s.replaceAll("\x1b[K", "<EL>");

describe("parseArgs", () => {
  const spec = {
    booleans: ["recursive", "long", "json"],
    strings: ["expires", "config"],
    short: { r: "recursive", l: "long", e: "expires" },
  };

  test("long, short, grouped, = and separate values, -, and --", () => {
    const { flags, positionals } = parseArgs(
      [
        "-rl",
        "a:b",
        "--json",
        "--expires",
        "1h",
        "-",
        "--config=x.toml",
        "--",
        "--not-a-flag",
        "-r",
      ],
      spec,
    );
    assert.deepEqual(flags, {
      recursive: true,
      long: true,
      json: true,
      expires: "1h",
      config: "x.toml",
    });
    assert.deepEqual(positionals, ["a:b", "-", "--not-a-flag", "-r"]);
    assert.deepEqual(parseArgs(["-e30m"], spec).flags, { expires: "30m" });
    assert.deepEqual(parseArgs(["-re", "5"], spec).flags, { recursive: true, expires: "5" });
  });

  test("mistakes are usage errors", () => {
    for (const argv of [["--nope"], ["-z"], ["--json=1"], ["--expires"], ["-e"], ["-rz"]]) {
      assert.throws(() => parseArgs(argv, spec), UsageError, argv.join(" "));
    }
  });
});

describe("progress bar", () => {
  test("formats bytes and a progress line", () => {
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(64 * 1024 * 1024), "64.0 MiB");
    assert.equal(formatBytes(3 * 1024 ** 3), "3.00 GiB");
    assert.equal(
      formatProgress(16 * 1024 * 1024, 64 * 1024 * 1024, 200),
      "[######------------------]  25%  16.0 MiB / 64.0 MiB  80.0 MiB/s",
    );
    assert.match(formatProgress(0, 0, 0), /^\[#{24}\] 100% {2}0 B \/ 0 B {2}-- MiB\/s$/);
  });

  test("redraws with \\r at most once per interval and clears at the end", () => {
    let now = 0;
    let out = "";
    const bar = new Progress({ write: (t: string) => (out += t) }, {
      enabled: true,
      now: () => now,
    });
    bar.update(0, 1000);
    for (let i = 1; i <= 100; i++) {
      now += 10;
      bar.update(i * 10, 1000);
    }
    const draws = out.split("\r").filter((s) => s.startsWith("["));
    assert.equal(draws.length, 11, "1 first draw + one per 100 ms over 1 s");
    assert.match(draws.at(-1)!, /100%/);
    bar.finish("copied");
    assert.match(el(out), /\r<EL>copied 1000 B in 1\.0 s \(0\.0 MiB\/s\)\n$/);
  });

  test("the final frame is drawn even when it comes within the first interval", () => {
    let now = 0;
    let out = "";
    const bar = new Progress({ write: (t: string) => (out += t) }, {
      enabled: true,
      now: () => now,
    });
    const total = 64 * 1024 * 1024;
    bar.update(0, total);
    now = 1;
    bar.update(total / 2, total); // within the interval: skipped
    now = 2;
    bar.update(total, total); // the final frame: drawn
    bar.update(total, total); // drawn once only
    const draws = out.split("\r").filter((s) => s.startsWith("["));
    assert.deepEqual(draws.map((d) => d.replace(/ {2}\S+ MiB\/s.*$/, "")), [
      "[------------------------]   0%  0 B / 64.0 MiB",
      "[########################] 100%  64.0 MiB / 64.0 MiB",
    ]);
  });

  test("draws nothing when disabled or while the total is unknown", () => {
    let out = "";
    const sink = { write: (t: string) => (out += t) };
    const off = new Progress(sink, { enabled: false });
    off.update(5, 10);
    off.finish("copied");
    const unknown = new Progress(sink, { enabled: true });
    unknown.update(5);
    unknown.finish("copied");
    assert.equal(out, "");
  });

  test("clear() erases the bar without a completion line", () => {
    let out = "";
    const bar = new Progress({ write: (t: string) => (out += t) }, { enabled: true });
    bar.update(1, 10);
    bar.clear();
    bar.finish("copied");
    assert.match(el(out), /^\r\[.*\r<EL>$/);
  });
});
