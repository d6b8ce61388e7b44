// A small edge application in the Workers module form: a Registry with the
// memory backend type, serving one generated 1 MiB file (`big file.bin`) with
// serveFile. The harness (tests/packaging/_edge.ts) bundles it with esbuild
// for each runtime. `GET /binding` answers the `MESSAGE` binding.
import { Registry, serveFile } from "@remote-store/remote-store";

const registry = new Registry({
  backends: { mem: { type: "memory" } },
  stores: { site: { backend: "mem", rootPath: "site" } },
});
const store = registry.getStore("site");

/** The bytes of `big file.bin`: 1 MiB + 7, byte i is (i * 31 + 7) mod 256. */
function bigFile() {
  const bytes = new Uint8Array(1024 * 1024 + 7);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 255;
  return bytes;
}

let seeded;

async function fetch(request, env) {
  const path = decodeURIComponent(new URL(request.url).pathname.slice(1));
  if (path === "binding") return new Response(env.MESSAGE);
  // Edge runtimes allow no I/O at start-up: seed on the first request.
  seeded ??= store.write("big file.bin", bigFile());
  await seeded;
  return serveFile(store, path, request);
}

export default { fetch };
