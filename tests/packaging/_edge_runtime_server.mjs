// Runs a bundled worker script in Vercel's edge-runtime (the npm package
// `edge-runtime`) on a free loopback port, and prints the server URL as one
// line. Started by tests/packaging/_edge.ts with Node; SIGTERM stops it.
// Arguments: the bundle path and the edge-runtime package folder.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import process from "node:process";

const [bundle, packageDir] = process.argv.slice(2);
const { EdgeRuntime, runServer } = createRequire(`${packageDir}/`)(packageDir);
const runtime = new EdgeRuntime({ initialCode: readFileSync(bundle, "utf8") });
const server = await runServer({ runtime, host: "127.0.0.1", port: 0 });
process.once("SIGTERM", () => {
  server.close().finally(() => process.exit(0));
});
console.log(server.url);
