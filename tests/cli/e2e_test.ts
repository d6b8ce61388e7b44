// The real CLI as a subprocess of the runtime running the tests (Deno, Bun or
// Node 24): ls, cat, cp, stdin/stdout, exit codes, Ctrl-C, and the progress
// bar on a pseudo-terminal (through util-linux `script`) versus a pipe.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { cliCommand, randomBytes, spawnProcess, tempDir } from "./_helpers.ts";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const [command, prefix] = cliCommand();

/** The path of `script` (util-linux), or undefined when it is not installed. */
function findScript(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v script"], { encoding: "utf8" }).trim() ||
      undefined;
  } catch {
    return undefined;
  }
}

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Makes the erase-line escape visible for matching. */
const el = (s: string) => s.replaceAll("\x1b[K", "<EL>");

describe("remote-store CLI (subprocess)", { timeout: 600_000 }, () => {
  const dir = tempDir("e2e");
  const cwd = join(dir.path, "work");
  const root = join(dir.path, "disk");
  const run = (
    args: string[],
    options: { input?: Uint8Array; env?: Record<string, string> } = {},
  ) => spawnProcess(command, [...prefix, ...args], { cwd, ...options });

  before(() => {
    mkdirSync(cwd, { recursive: true });
    mkdirSync(join(root, "files", "docs"), { recursive: true });
    writeFileSync(join(root, "files", "docs", "hello.txt"), "hello\n");
    writeFileSync(
      join(cwd, "remote-store.json"),
      JSON.stringify({
        backends: {
          local: { type: "local", options: { root: "${E2E_ROOT}" } },
          m: { type: "memory" },
        },
        stores: { disk: { backend: "local", rootPath: "files" }, mem: { backend: "m" } },
      }),
    );
  });
  after(() => dir.cleanup());

  const env = () => ({ E2E_ROOT: root });

  test("ls and cat, with the config found in the working directory", async () => {
    const ls = await run(["ls", "-r", "disk:"], { env: env() });
    assert.equal(ls.stderr, "");
    assert.equal(ls.code, 0);
    assert.equal(new TextDecoder().decode(ls.stdout), "docs/hello.txt\n");
    const cat = await run(["cat", "disk:docs/hello.txt"], { env: env() });
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(new TextDecoder().decode(cat.stdout), "hello\n");
  });

  test("cp local -> store, stdin -> store and store -> stdout, binary-safe", async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 1, 11);
    writeFileSync(join(cwd, "in.bin"), bytes);
    const up = await run(["cp", "in.bin", "disk:bin/"], { env: env() });
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stderr, "", "no progress on a pipe");
    assert.equal(sha256(readFileSync(join(root, "files", "bin", "in.bin"))), sha256(bytes));
    const piped = await run(["cp", "-", "disk:bin/stdin.bin"], { env: env(), input: bytes });
    assert.equal(piped.code, 0, piped.stderr);
    const down = await run(["cp", "disk:bin/stdin.bin", "-"], { env: env() });
    assert.equal(down.code, 0, down.stderr);
    assert.equal(sha256(down.stdout), sha256(bytes));
    const again = await run(["cp", "in.bin", "disk:bin/in.bin"], { env: env() });
    assert.equal(again.code, 4);
    assert.match(again.stderr, /^remote-store: .*pass --overwrite to replace it\n$/);
  });

  test("errors: one line on stderr and an exit code per condition", async () => {
    const missing = await run(["cat", "disk:nope.txt"], { env: env() });
    assert.equal(missing.code, 3);
    assert.equal(missing.stdout.byteLength, 0);
    assert.match(missing.stderr, /^remote-store: [^\n]*"nope\.txt"[^\n]*\n$/);
    const usage = await run(["ls", "--bogus"], { env: env() });
    assert.equal(usage.code, 2);
    assert.equal(usage.stderr, "remote-store: unknown option --bogus\n");
    const config = await run(["ls", "disk:"]);
    assert.equal(config.code, 7, "E2E_ROOT is not set");
    assert.match(config.stderr, /E2E_ROOT/);
    const help = await run(["--help"]);
    assert.equal(help.code, 0);
    assert.match(new TextDecoder().decode(help.stdout), /Exit codes:/);
  });

  test("a TOML config named by $REMOTE_STORE_CONFIG", async () => {
    const file = join(dir.path, "stores.toml");
    writeFileSync(
      file,
      `[backends.local]\ntype = "local"\noptions = { root = "\${E2E_ROOT}" }\n\n[stores.docs]\nbackend = "local"\nroot_path = "files/docs"\n`,
    );
    const r = await run(["ls", "-l", "docs:"], { env: { ...env(), REMOTE_STORE_CONFIG: file } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(new TextDecoder().decode(r.stdout), /^ +6 {2}\S+ {2}hello\.txt\n$/);
  });

  test("Ctrl-C (SIGINT) aborts the copy, exits 130 and leaves no file", async () => {
    const result = await spawnProcess(command, [...prefix, "cp", "-", "disk:interrupted.bin"], {
      cwd,
      env: env(),
      onStart: (kill, write) => {
        // Send a first chunk, wait until the write has begun (its temporary
        // file exists, so the SIGINT handler is installed), then interrupt
        // while the CLI waits for more input on the still-open stdin.
        write(new Uint8Array(64 * 1024));
        const started = Date.now();
        const poll = () => {
          const files = readdirSync(join(root, "files"));
          if (files.some((n) => n.startsWith(".~tmp")) || Date.now() - started > 60_000) {
            kill("SIGINT");
          } else setTimeout(poll, 50);
        };
        poll();
      },
    });
    assert.equal(result.code, 130, result.stderr);
    assert.equal(result.stderr, "remote-store: interrupted\n");
    assert.equal(existsSync(join(root, "files", "interrupted.bin")), false);
    const temp = readdirSync(join(root, "files")).filter((n) => n.startsWith(".~tmp"));
    assert.deepEqual(temp, []);
  });

  const script = findScript();
  test(
    "a progress bar on a terminal (pty through `script`), none on a pipe",
    { skip: script === undefined ? "util-linux `script` is not installed" : false },
    async () => {
      const big = join(cwd, "big.bin");
      const block = randomBytes(1024 * 1024, 5);
      writeFileSync(big, new Uint8Array(0));
      for (let i = 0; i < 64; i++) appendFileSync(big, block);
      const line = [command, ...prefix, "cp", "big.bin", "disk:big/tty.bin"].map(shellQuote)
        .join(" ");
      const pty = await spawnProcess(script!, ["-qfec", line, "/dev/null"], { cwd, env: env() });
      const output = new TextDecoder().decode(pty.stdout);
      assert.equal(pty.code, 0, output + pty.stderr);
      // However fast the copy, the first frame and the final one are drawn (no timing involved).
      assert.match(output, /\[-{24}\] +0% {2}0 B \/ 64\.0 MiB {2}[\d.-]+ MiB\/s/);
      assert.match(output, /\[#{24}\] 100% {2}64\.0 MiB \/ 64\.0 MiB {2}[\d.-]+ MiB\/s/);
      assert.match(el(output), /\r<EL>copied 64\.0 MiB in \d+\.\d s \([\d.]+ MiB\/s\)\r?\n$/);
      const copied = readFileSync(join(root, "files", "big", "tty.bin"));
      assert.equal(copied.byteLength, 64 * 1024 * 1024);

      const plain = await run(["cp", "big.bin", "disk:big/pipe.bin"], { env: env() });
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(plain.stderr, "", "no progress text when stderr is a pipe");
      assert.equal(plain.stdout.byteLength, 0);
    },
  );
});
