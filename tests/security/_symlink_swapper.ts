/**
 * The attacker of `local_symlink_swap_test.ts`, run as a separate process:
 * in a tight loop it re-points `<root>/flip` between `in` (a folder inside
 * the root) and the outside folder (atomically, by renaming a fresh link over
 * it), and turns `<root>/swap` from a real folder into a link to the outside
 * folder and back. It stops when `<stop file>` appears (checked every 256
 * swaps) or after two minutes, and prints how many swaps it made.
 *
 * Usage: `<runtime> _symlink_swapper.ts <root> <outside folder> <stop file>`.
 *
 * @module
 */

import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";

const [root, outside, stopFile] = process.argv.slice(-3) as [string, string, string];
const flip = path.join(root, "flip");
const next = path.join(root, "flip-next");
const swap = path.join(root, "swap");
const away = path.join(root, "swap-away");
const deadline = Date.now() + 120_000;

/** Puts the real folder back at `swap` (an operation may have created a folder there meanwhile). */
function repair(): void {
  try {
    if (fs.existsSync(away)) {
      fs.rmSync(swap, { recursive: true, force: true });
      fs.renameSync(away, swap);
    }
  } catch {
    // Retried on the next swap.
  }
}

process.stdout.write("ready\n");
let swaps = 0;
while (true) {
  if (swaps % 256 === 0 && (fs.existsSync(stopFile) || Date.now() > deadline)) break;
  swaps++;
  try {
    fs.symlinkSync(swaps % 2 === 0 ? "in" : outside, next);
    fs.renameSync(next, flip);
  } catch {
    fs.rmSync(next, { force: true });
  }
  try {
    if (fs.lstatSync(swap).isSymbolicLink()) {
      fs.unlinkSync(swap);
      fs.renameSync(away, swap);
    } else {
      fs.renameSync(swap, away);
      fs.symlinkSync(outside, swap);
    }
  } catch {
    repair();
  }
}
repair();
fs.symlinkSync("in", next);
fs.renameSync(next, flip);
process.stdout.write(`${swaps}\n`);
