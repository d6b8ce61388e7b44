// A Node or Bun application using the package as JSR's npm layer delivers it
// (`npx jsr add @remote-store/remote-store`): a Registry with the memory,
// local and Azure backend types. Arguments: a local root folder, an Azure
// connection string and an existing container. Prints one JSON line.
import process from "node:process";
import { Registry, serveFile } from "@remote-store/remote-store";
import { localBackendType } from "@remote-store/remote-store/local";
import { azureBackendType } from "@remote-store/remote-store/azure";

const [root, connectionString, container] = process.argv.slice(2);
const registry = new Registry({
  backends: {
    mem: { type: "memory" },
    disk: { type: "local", options: { root } },
    blob: { type: "azure", options: { container, connectionString } },
  },
  stores: {
    mem: { backend: "mem", rootPath: "app" },
    disk: { backend: "disk", rootPath: "app" },
    blob: { backend: "blob", rootPath: "app" },
  },
}, { backendTypes: [localBackendType, azureBackendType] });

const results = {};
try {
  for (const name of ["mem", "disk", "blob"]) {
    const store = registry.getStore(name);
    await store.write("dir/hello world.txt", `hello from ${name}\n`);
    const text = await store.readText("dir/hello world.txt");
    const listed = [];
    for await (const file of store.listFiles("", { recursive: true })) {
      listed.push(file.path);
    }
    const request = new Request("http://127.0.0.1/", {
      headers: { range: "bytes=6-9" },
    });
    const response = await serveFile(store, "dir/hello world.txt", request);
    results[name] = {
      text,
      listed,
      status: response.status,
      contentRange: response.headers.get("content-range"),
      body: await response.text(),
    };
  }
} finally {
  await registry.close();
}
const runtime = globalThis.Bun ? `bun ${globalThis.Bun.version}` : `node ${process.version}`;
console.log(JSON.stringify({ runtime, results }));
