// Every CLI command, in-process, against a registry with a memory store and
// a local store: output, JSON, exit codes, stdin/stdout, progress and abort.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ALL_CAPABILITIES,
  BackendUnavailableError,
  Capabilities,
  PermissionDeniedError,
  PreconditionFailedError,
  type Registry,
  Store,
} from "../../mod.ts";
import type { BackendSignedUrlOptions } from "../../mod.ts";
import type { StoreSource } from "../../src/cli/commands.ts";
import { Registry as StoreRegistry } from "../../mod.ts";
import { localBackendType } from "../../local.ts";
import {
  Capture,
  chunks,
  cli,
  fakeBackend,
  fixtureRegistry,
  randomBytes,
  type RunOptions,
  tempDir,
} from "./_helpers.ts";

const COMMANDS = ["ls", "cat", "cp", "mv", "rm", "stat", "url", "ping"];
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Makes the erase-line escape visible for matching. */
const el = (s: string) => s.replaceAll("\x1b[K", "<EL>");

describe("remote-store CLI commands (in-process)", () => {
  const dir = tempDir("commands");
  const root = join(dir.path, "disk");
  const work = join(dir.path, "work");
  let registry: Registry;
  const run = (argv: string[], options: RunOptions = {}) =>
    cli(argv, { stores: registry, cwd: work, ...options });

  before(async () => {
    mkdirSync(work, { recursive: true });
    registry = fixtureRegistry(root);
    const mem = registry.getStore("mem");
    await mem.write("docs/a.txt", "alpha\n");
    await mem.write("docs/sub/b.txt", "beta\n");
    await mem.write("top.txt", "top\n");
  });
  after(async () => {
    await registry.close();
    dir.cleanup();
  });

  describe("help and usage", () => {
    test("--help lists every command and the exit codes", async () => {
      const r = await run(["--help"]);
      assert.equal(r.code, 0);
      for (const command of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${command} `, "m"));
      for (const code of [0, 1, 2, 3, 4, 5, 6, 7]) {
        assert.match(r.stdout, new RegExp(`^  ${code}  `, "m"));
      }
      assert.match(r.stdout, /REMOTE_STORE_CONFIG/);
      assert.equal(r.stderr, "");
    });

    for (const command of COMMANDS) {
      test(`${command} --help shows its usage and exits 0 without a config`, async () => {
        const r = await cli([command, "--help"], { cwd: work });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^Usage: remote-store ${command}`));
        assert.match(r.stdout, /--config <file>/);
        const viaHelp = await cli(["help", command], { cwd: work });
        assert.equal(viaHelp.stdout, r.stdout);
        const short = await cli([command, "-h"], { cwd: work });
        assert.equal(short.stdout, r.stdout);
      });
    }

    test("no command prints the help on stderr and exits 2", async () => {
      const r = await run([]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /Usage: remote-store <command>/);
    });

    const usage: [string, string[], RegExp][] = [
      ["an unknown command", ["frobnicate"], /unknown command "frobnicate" \(commands: ls, cat/],
      ["an unknown option", ["ls", "mem:", "--colour"], /unknown option --colour/],
      ["an unknown short option", ["ls", "-x", "mem:"], /unknown option -x/],
      ["a value for a boolean", ["ls", "--long=yes", "mem:"], /--long does not take a value/],
      ["a missing value", ["url", "mem:a", "--expires"], /--expires needs a value/],
      ["too few arguments", ["cp", "mem:a"], /cp takes a source and a destination/],
      ["too many arguments", ["stat", "mem:a", "mem:b"], /stat takes one/],
      [
        "an unknown store",
        ["ls", "nope:x"],
        /unknown store "nope" \(known stores: "mem", "disk"\)/,
      ],
      ["a local path where a store path is needed", ["cat", "./x.txt"], /store paths/],
      ["a path with ..", ["cat", "mem:../x"], /\.\./],
      ["a bad --expires", ["url", "mem:a", "--expires", "2w"], /--expires must be/],
      ["--expires beyond 7 days", ["url", "mem:a", "--expires", "8d"], /--expires must be/],
      ["mv of a local path", ["mv", "./a", "mem:b"], /mv works on store paths/],
      ["rm of a store root", ["rm", "-r", "mem:"], /refusing to delete the root/],
    ];
    for (const [what, argv, message] of usage) {
      test(`${what} is a usage error (exit 2)`, async () => {
        const r = await run(argv);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /^remote-store: /);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
        assert.equal(r.stdout, "");
      });
    }
  });

  describe("ls", () => {
    test("lists folders then files of a folder, as store paths", async () => {
      const r = await run(["ls", "mem:docs"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "docs/sub/\ndocs/a.txt\n");
      const rootListing = await run(["ls", "mem:"]);
      assert.equal(rootListing.stdout, "docs/\ntop.txt\n");
      const bare = await run(["ls", "mem"]);
      assert.equal(bare.stdout, rootListing.stdout, "a bare store name is its root");
    });

    test("-r lists every file below; -l adds size and time", async () => {
      const r = await run(["ls", "-r", "mem:"]);
      assert.deepEqual(r.stdout.trim().split("\n").sort(), [
        "docs/a.txt",
        "docs/sub/b.txt",
        "top.txt",
      ]);
      const long = await run(["ls", "-rl", "mem:docs"]);
      const lines = long.stdout.split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 2);
      for (const entry of lines) {
        assert.match(entry, /^ +\d+ {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}docs\/\S+$/);
      }
      assert.match(long.stdout, /^ {11}6 {2}.*docs\/a\.txt$/m);
      const longFolders = await run(["ls", "--long", "mem:"]);
      assert.match(longFolders.stdout, /^ {11}- +- +docs\/$/m);
    });

    test("--json prints one parseable array", async () => {
      const r = await run(["ls", "--json", "mem:docs"]);
      const entries = JSON.parse(r.stdout) as Record<string, unknown>[];
      assert.deepEqual(entries.map((e) => [e.type, e.path]), [
        ["folder", "docs/sub"],
        ["file", "docs/a.txt"],
      ]);
      assert.equal(entries[1]!.size, 6);
      assert.ok(!Number.isNaN(Date.parse(String(entries[1]!.modifiedAt))));
      const empty = await run(["ls", "--json", "disk:"]);
      assert.deepEqual(JSON.parse(empty.stdout), []);
      const recursive = JSON.parse((await run(["ls", "-r", "--json", "mem:"])).stdout);
      assert.equal(recursive.length, 3);
    });

    test("a file path lists that file; a missing path exits 3", async () => {
      const r = await run(["ls", "-l", "mem:docs/a.txt"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^ +6 {2}\S+ {2}docs\/a\.txt\n$/);
      const missing = await run(["ls", "mem:nothing/here"]);
      assert.equal(missing.code, 3);
      assert.match(missing.stderr, /^remote-store: .*"nothing\/here"/);
    });

    test("control characters in names are escaped, in text and in JSON", async () => {
      const names = [
        "red\x1b[31m.txt",
        "two\nlines.txt",
        "bell\x07",
        "c1\u009b2J",
        "rtl\u202etxt.exe",
        "tab\there",
        "del\x7f",
        "back\\slash",
      ];
      const backend = fakeBackend({
        list: async function* () {
          for (const key of names) {
            yield { kind: "file", info: { key, size: 1, modifiedAt: new Date(0) } };
          }
        },
      });
      const store = new Store(backend);
      const stores: StoreSource = { storeNames: ["evil"], getStore: () => store };
      const r = await cli(["ls", "evil:"], { stores });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        [
          "red\\x1B[31m.txt",
          "two\\nlines.txt",
          "bell\\x07",
          "c1\\x9B2J",
          "rtl\\u{202E}txt.exe",
          "tab\\there",
          "del\\x7F",
          "back\\\\slash",
        ].join("\n") + "\n",
      );
      const long = await cli(["ls", "-l", "evil:"], { stores });
      assert.equal(long.stdout.split("\n").length, names.length + 1, "one line per name");
      const json = await cli(["ls", "--json", "evil:"], { stores });
      // deno-lint-ignore no-control-regex -- no raw control character may reach the output
      assert.doesNotMatch(json.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
      assert.deepEqual(JSON.parse(json.stdout).map((e: { path: string }) => e.path), names);
    });

    test("without an argument lists the store names", async () => {
      const r = await run(["ls"]);
      assert.equal(r.stdout, "mem\ndisk\n");
      assert.deepEqual(JSON.parse((await run(["ls", "--json"])).stdout), [
        { type: "store", name: "mem" },
        { type: "store", name: "disk" },
      ]);
    });
  });

  describe("cat", () => {
    test("writes a file to stdout; several files in order", async () => {
      assert.equal((await run(["cat", "mem:docs/a.txt"])).stdout, "alpha\n");
      const both = await run(["cat", "mem:docs/a.txt", "mem:top.txt"]);
      assert.equal(both.stdout, "alpha\ntop\n");
    });

    test("is binary-safe and waits for drain (backpressure)", async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 5);
      await registry.getStore("mem").write("bin/data.bin", bytes);
      const slow = new Capture({ slow: true });
      const r = await run(["cat", "mem:bin/data.bin"], { stdout: slow });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha256(slow.bytes()), sha256(bytes));
      assert.equal(slow.maxPending, 1, "never writes again before the output drained");
    });

    test("a missing file exits 3 and prints nothing on stdout", async () => {
      const r = await run(["cat", "mem:missing.txt"]);
      assert.equal(r.code, 3);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^remote-store: .*"missing\.txt" \(backend "m"\)\n$/);
    });

    test("a folder is a usage error (exit 2)", async () => {
      const r = await run(["cat", "disk:"]);
      assert.equal(r.code, 2, r.stderr);
    });
  });

  describe("cp", () => {
    test("local -> store -> local, 5 MiB, same hash", async () => {
      const bytes = randomBytes(5 * 1024 * 1024 + 3);
      writeFileSync(join(work, "five.bin"), bytes);
      const up = await run(["cp", "five.bin", "disk:big/five.bin"]);
      assert.equal(up.code, 0, up.stderr);
      assert.equal(up.stdout + up.stderr, "", "quiet when stderr is not a terminal");
      assert.ok(existsSync(join(root, "files", "big", "five.bin")));
      const across = await run(["cp", "disk:big/five.bin", "mem:five.bin"]);
      assert.equal(across.code, 0, across.stderr);
      const down = await run(["cp", "mem:five.bin", "./back/five-copy.bin"]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(sha256(readFileSync(join(work, "back", "five-copy.bin"))), sha256(bytes));
    });

    test("an existing destination exits 4 and suggests --overwrite; --overwrite replaces", async () => {
      writeFileSync(join(work, "one.txt"), "one");
      assert.equal((await run(["cp", "one.txt", "mem:one.txt"])).code, 0);
      writeFileSync(join(work, "one.txt"), "two");
      const again = await run(["cp", "./one.txt", "mem:one.txt"]);
      assert.equal(again.code, 4);
      assert.match(again.stderr, /--overwrite/);
      assert.equal(await registry.getStore("mem").readText("one.txt"), "one");
      const forced = await run(["cp", "--overwrite", "./one.txt", "mem:one.txt"]);
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(await registry.getStore("mem").readText("one.txt"), "two");
      const local = await run(["cp", "mem:one.txt", "one.txt"]);
      assert.equal(local.code, 4, "local destinations are create-only too");
    });

    test("a folder destination receives the source's name", async () => {
      assert.equal((await run(["cp", "mem:docs/a.txt", "disk:inbox/"])).code, 0);
      assert.equal(await registry.getStore("disk").readText("inbox/a.txt"), "alpha\n");
      assert.equal((await run(["cp", "mem:top.txt", "disk:inbox"])).code, 0, "an existing folder");
      assert.equal(await registry.getStore("disk").readText("inbox/top.txt"), "top\n");
      assert.equal((await run(["cp", "disk:inbox/a.txt", "mem:"])).code, 0, "the store root");
      assert.equal(await registry.getStore("mem").readText("a.txt"), "alpha\n");
      mkdirSync(join(work, "here"), { recursive: true });
      assert.equal((await run(["cp", "mem:docs/sub/b.txt", "here"])).code, 0);
      assert.equal(readFileSync(join(work, "here", "b.txt"), "utf8"), "beta\n");
      assert.equal((await run(["cp", "mem:docs/sub/b.txt", "."])).code, 0);
      assert.equal(readFileSync(join(work, "b.txt"), "utf8"), "beta\n");
    });

    test("within one store copies server-side", async () => {
      const r = await run(["cp", "mem:docs/a.txt", "mem:copies/a.txt"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await registry.getStore("mem").readText("copies/a.txt"), "alpha\n");
    });

    test("- reads stdin and writes stdout, binary-safe", async () => {
      const bytes = randomBytes(1024 * 1024 + 17, 3);
      const r = await run(["cp", "-", "mem:from-stdin.bin"], { stdin: chunks(bytes) });
      assert.equal(r.code, 0, r.stderr);
      const out = await run(["cp", "mem:from-stdin.bin", "-"]);
      assert.equal(sha256(out.out.bytes()), sha256(bytes));
      const through = await run(["cp", "-", "-"], { stdin: chunks(bytes, 1000) });
      assert.equal(sha256(through.out.bytes()), sha256(bytes));
      const toFile = await run(["cp", "-", "stdin.bin"], { stdin: chunks(bytes) });
      assert.equal(toFile.code, 0, toFile.stderr);
      assert.equal(sha256(readFileSync(join(work, "stdin.bin"))), sha256(bytes));
      const noName = await run(["cp", "-", "mem:docs/"], { stdin: chunks(bytes) });
      assert.equal(noName.code, 2);
      assert.match(noName.stderr, /give a file name/);
    });

    test("a missing local source exits 3 and names the path as typed", async () => {
      const r = await run(["cp", "./nope/missing.txt", "mem:x.txt"]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /"\.\/nope\/missing\.txt" \(backend "local"\)/);
      assert.ok(!existsSync(join(work, "nope")), "no folder created for a source");
      const store = await run(["cp", "mem:missing.txt", "out.txt"]);
      assert.equal(store.code, 3);
      assert.ok(!existsSync(join(work, "out.txt")));
    });

    test("draws a progress bar on a terminal, and nothing otherwise", async () => {
      const bytes = randomBytes(2 * 1024 * 1024);
      writeFileSync(join(work, "progress.bin"), bytes);
      const tty = await run(["cp", "progress.bin", "mem:progress-1.bin"], { isTTY: true });
      assert.equal(tty.code, 0, tty.stderr);
      assert.match(tty.stderr, /^\r\[[#-]{24}\] +\d+% {2}/);
      assert.match(tty.stderr, /MiB\/s/);
      assert.match(el(tty.stderr), /\r<EL>copied 2\.0 MiB in \d+\.\d s \([\d.]+ MiB\/s\)\n$/);
      const plain = await run(["cp", "progress.bin", "mem:progress-2.bin"]);
      assert.equal(plain.stderr, "");
      const stdin = await run(["cp", "-", "mem:progress-3.bin"], {
        isTTY: true,
        stdin: chunks(bytes),
      });
      assert.equal(stdin.stderr, "", "no bar when the size is unknown");
    });

    test("an abort (Ctrl-C) stops the copy, exits 130 and leaves no file", async () => {
      const controller = new AbortController();
      async function* slowStdin(): AsyncGenerator<Uint8Array> {
        yield new Uint8Array(1024);
        controller.abort(new DOMException("Interrupted", "AbortError"));
        await new Promise((resolve) => setTimeout(resolve, 50));
        yield new Uint8Array(1024);
      }
      const r = await run(["cp", "-", "disk:aborted.bin"], {
        stdin: slowStdin(),
        signal: controller.signal,
      });
      assert.equal(r.code, 130);
      assert.equal(r.stderr, "remote-store: interrupted\n");
      assert.equal(await registry.getStore("disk").exists("aborted.bin"), false);
      const names = readdirSync(join(root, "files"));
      assert.ok(!names.some((n) => n.startsWith(".~tmp")), `no temp file left: ${names}`);
    });
  });

  describe("mv", () => {
    test("renames within a store", async () => {
      await registry.getStore("disk").write("mv/a.txt", "A");
      const r = await run(["mv", "disk:mv/a.txt", "disk:mv/b.txt"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await registry.getStore("disk").exists("mv/a.txt"), false);
      assert.equal(await registry.getStore("disk").readText("mv/b.txt"), "A");
    });

    test("moves across stores: copy, then delete the source", async () => {
      await registry.getStore("disk").write("mv/c.txt", "C");
      const r = await run(["mv", "disk:mv/c.txt", "mem:moved/"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await registry.getStore("mem").readText("moved/c.txt"), "C");
      assert.equal(await registry.getStore("disk").exists("mv/c.txt"), false);
    });

    test("moving a file onto itself through other store names is a no-op, not a delete", async () => {
      const disk = join(dir.path, "same");
      const same = new StoreRegistry({
        backends: {
          l1: { type: "local", options: { root: disk } },
          l2: { type: "local", options: { root: disk } },
          m: { type: "memory" },
        },
        stores: {
          a: { backend: "l1", rootPath: "files" },
          b: { backend: "l1" },
          c: { backend: "l2", rootPath: "files/./" },
          m1: { backend: "m", rootPath: "x" },
          m2: { backend: "m" },
        },
      }, { backendTypes: [localBackendType] });
      try {
        await same.getStore("a").write("f.txt", "keep me");
        await same.getStore("m1").write("f.txt", "keep me too");
        const before = (await same.getStore("a").getFileInfo("f.txt")).etag;
        const moves: [string, string, string][] = [
          ["mv", "a:f.txt", "b:files/f.txt"],
          ["mv", "a:f.txt", "c:f.txt"],
          ["mv", "b:files/f.txt", "c:"],
          ["cp", "a:f.txt", "c:./f.txt"],
          ["cp", join(disk, "files", "f.txt"), "a:f.txt"],
          ["cp", "c:f.txt", join(disk, "files", "f.txt")],
          ["mv", "m1:f.txt", "m2:x/f.txt"],
        ];
        for (const [command, from, to] of moves) {
          const r = await cli([command, from, to, "--overwrite"], { stores: same, cwd: work });
          assert.equal(r.code, 0, `${command} ${from} ${to}: ${r.stderr}`);
        }
        assert.equal(await same.getStore("a").readText("f.txt"), "keep me");
        const after = (await same.getStore("a").getFileInfo("f.txt")).etag;
        assert.equal(after, before, "the file was not rewritten either");
        assert.equal(await same.getStore("m1").readText("f.txt"), "keep me too");
        const missing = await cli(["mv", "a:none.txt", "b:files/none.txt", "--overwrite"], {
          stores: same,
          cwd: work,
        });
        assert.equal(missing.code, 3, "a missing source is still reported");
      } finally {
        await same.close();
      }
    });

    test("an existing destination exits 4 and keeps both; a missing source exits 3", async () => {
      await registry.getStore("mem").write("mv/x.txt", "X");
      await registry.getStore("mem").write("mv/y.txt", "Y");
      const r = await run(["mv", "mem:mv/x.txt", "mem:mv/y.txt"]);
      assert.equal(r.code, 4);
      assert.match(r.stderr, /--overwrite/);
      assert.equal(await registry.getStore("mem").readText("mv/x.txt"), "X");
      const forced = await run(["mv", "mem:mv/x.txt", "mem:mv/y.txt", "--overwrite"]);
      assert.equal(forced.code, 0);
      assert.equal(await registry.getStore("mem").readText("mv/y.txt"), "X");
      const across = await run(["mv", "mem:mv/y.txt", "disk:mv/b.txt"]);
      assert.equal(across.code, 4, "across stores too");
      assert.equal(await registry.getStore("mem").readText("mv/y.txt"), "X", "source kept");
      assert.equal((await run(["mv", "mem:mv/none.txt", "mem:mv/z.txt"])).code, 3);
    });
  });

  describe("rm", () => {
    test("deletes files; a missing one exits 3 unless --missing-ok", async () => {
      await registry.getStore("mem").write("rm/a.txt", "a");
      await registry.getStore("mem").write("rm/b.txt", "b");
      assert.equal((await run(["rm", "mem:rm/a.txt", "mem:rm/b.txt"])).code, 0);
      assert.equal(await registry.getStore("mem").exists("rm/a.txt"), false);
      const missing = await run(["rm", "mem:rm/a.txt"]);
      assert.equal(missing.code, 3);
      assert.equal((await run(["rm", "--missing-ok", "mem:rm/a.txt"])).code, 0);
      assert.equal((await run(["rm", "-r", "--missing-ok", "mem:rm/none"])).code, 0);
    });

    test("a folder needs -r (exit 2 without); -r deletes the tree", async () => {
      for (const store of ["mem", "disk"]) {
        await registry.getStore(store).write("tree/x/1.txt", "1");
        await registry.getStore(store).write("tree/2.txt", "2");
        const plain = await run(["rm", `${store}:tree`]);
        assert.equal(plain.code, 2, `${store}: ${plain.stderr}`);
        assert.match(plain.stderr, /is a folder; use rm -r/);
        const withMissingOk = await run(["rm", "--missing-ok", `${store}:tree`]);
        assert.equal(withMissingOk.code, 2, "--missing-ok does not hide a folder");
        const r = await run(["rm", "-r", `${store}:tree`]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await registry.getStore(store).isFolder("tree"), false);
        assert.equal((await run(["rm", "-r", `${store}:tree`])).code, 3);
      }
      await registry.getStore("mem").write("single.txt", "s");
      assert.equal((await run(["rm", "-r", "mem:single.txt"])).code, 0, "-r also deletes a file");
    });
  });

  describe("stat", () => {
    test("a file: text and JSON", async () => {
      const r = await run(["stat", "mem:docs/a.txt"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^path: +docs\/a\.txt$/m);
      assert.match(r.stdout, /^type: +file$/m);
      assert.match(r.stdout, /^size: +6 \(6 B\)$/m);
      assert.match(r.stdout, /^modified: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
      assert.match(r.stdout, /^content-type: +text\/plain/m);
      const json = JSON.parse((await run(["stat", "--json", "mem:docs/a.txt"])).stdout);
      assert.equal(json.type, "file");
      assert.equal(json.size, 6);
      assert.equal(json.path, "docs/a.txt");
    });

    test("a folder and the store root: counts and total size", async () => {
      const json = JSON.parse((await run(["stat", "--json", "mem:docs"])).stdout);
      assert.deepEqual([json.type, json.path, json.fileCount, json.totalSize], [
        "folder",
        "docs",
        2,
        11,
      ]);
      const text = await run(["stat", "mem:"]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^path: +\(store root\)$/m);
      assert.match(text.stdout, /^files: +\d+$/m);
    });

    test("a missing path exits 3", async () => {
      const r = await run(["stat", "mem:nothing"]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /No such file or folder: "nothing"/);
    });
  });

  describe("url", () => {
    test("a backend that cannot sign URLs exits 1 with a clear message", async () => {
      const r = await run(["url", "mem:docs/a.txt"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^remote-store: store "mem" cannot sign URLs/);
    });

    test("prints the signed URL with the lifetime and permissions asked for", async () => {
      const calls: [string, BackendSignedUrlOptions][] = [];
      const backend = fakeBackend({
        capabilities: new Capabilities(ALL_CAPABILITIES),
        signedUrl: (key: string, options: BackendSignedUrlOptions) => {
          calls.push([key, options]);
          return Promise.resolve(`https://example.test/${key}?se=${options.expiresIn}`);
        },
      });
      const signing: StoreSource = {
        storeNames: ["cloud"],
        getStore: () => new Store(backend, { rootPath: "root", backendName: "fake" }),
      };
      const r = await run(["url", "cloud:a b.txt"], { stores: signing });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "https://example.test/root/a b.txt?se=3600\n");
      assert.deepEqual(calls[0]![1].permissions, ["read"]);
      const cases: [string[], number, string[]][] = [
        [["--expires", "30m"], 1800, ["read"]],
        [["--expires=90"], 90, ["read"]],
        [["--expires", "7d", "--write"], 604800, ["write"]],
        [["--read", "--write", "--delete", "--expires", "45s"], 45, ["read", "write", "delete"]],
      ];
      for (const [flags, seconds, permissions] of cases) {
        calls.length = 0;
        const c = await run(["url", "cloud:x.bin", ...flags], { stores: signing });
        assert.equal(c.code, 0, c.stderr);
        assert.equal(calls[0]![1].expiresIn, seconds);
        assert.deepEqual(calls[0]![1].permissions, permissions);
      }
    });
  });

  describe("ping", () => {
    const stores = (): StoreSource => {
      const up = join(dir.path, "ping-up");
      mkdirSync(up, { recursive: true });
      const pinged = new StoreRegistry({
        backends: {
          m: { type: "memory" },
          up: { type: "local", options: { root: up } },
          gone: { type: "local", options: { root: join(dir.path, "ping-gone") } },
        },
        stores: { mem: { backend: "m" }, up: { backend: "up" }, gone: { backend: "gone" } },
      }, { backendTypes: [localBackendType] });
      return { storeNames: ["mem", "up", "gone"], getStore: (name) => pinged.getStore(name) };
    };

    test("with no argument, every store: one line each, exit code of the first failure", async () => {
      const r = await run(["ping"], { stores: stores() });
      assert.equal(r.code, 3, r.stderr);
      const lines = r.stdout.trimEnd().split("\n");
      assert.deepEqual(lines.slice(0, 2), ["mem: ok", "up: ok"]);
      assert.match(lines[2]!, /^gone: .*ping-gone/);
      assert.match(r.stderr, /^remote-store: [^\n]*ping-gone[^\n]*\n$/);
    });

    test("named stores only (a trailing colon allowed); an unknown name is a usage error", async () => {
      const ok = await run(["ping", "mem", "up:"], { stores: stores() });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, "mem: ok\nup: ok\n");
      const unknown = await run(["ping", "nope"], { stores: stores() });
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /"mem", "up", "gone"/);
    });

    test("an unreachable backend exits 6", async () => {
      const down: StoreSource = {
        storeNames: ["down"],
        getStore: () =>
          new Store(
            fakeBackend({
              ping: () => Promise.reject(new BackendUnavailableError("Service returned 503")),
            }),
            { backendName: "flaky" },
          ),
      };
      const r = await run(["ping"], { stores: down });
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stdout, /^down: .*503/);
    });
  });

  describe("errors", () => {
    const failing = (error: Error): StoreSource => ({
      storeNames: ["bad"],
      getStore: () =>
        new Store(fakeBackend({ read: () => Promise.reject(error) }), { backendName: "flaky" }),
    });
    const cases: [string, Error, number, RegExp][] = [
      ["permission denied", new PermissionDeniedError("Access denied"), 5, /Access denied/],
      ["backend unavailable", new BackendUnavailableError("Service returned 503"), 6, /503/],
      ["another library error", new PreconditionFailedError("ETag changed"), 1, /ETag changed/],
      ["an unexpected error", new Error("boom"), 6, /Unexpected backend failure/],
    ];
    for (const [what, error, code, message] of cases) {
      test(`${what} exits ${code} with one line on stderr`, async () => {
        const r = await run(["cat", "bad:x.txt"], { stores: failing(error) });
        assert.equal(r.code, code, r.stderr);
        assert.match(r.stderr, message);
        assert.match(r.stderr, /^remote-store: [^\n]+\n$/);
      });
    }

    test("an already aborted signal exits 130 before any work", async () => {
      const controller = new AbortController();
      controller.abort();
      const r = await run(["cat", "mem:docs/a.txt"], { signal: controller.signal });
      assert.equal(r.code, 130);
      assert.equal(r.stdout, "");
    });
  });
});
