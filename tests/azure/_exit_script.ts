/**
 * Child script of the "exits by itself" test: uses the backend (so keep-alive
 * sockets exist), closes it, and must then exit without help.
 *
 * @module
 */

import process from "node:process";
import { Store } from "../../mod.ts";
import { AzureBackend } from "../../azure.ts";

const backend = new AzureBackend({
  container: process.env.AZ_CONTAINER!,
  connectionString: process.env.AZ_CS!,
});
const store = new Store(backend, { rootPath: "exit-script" });
await store.write("a.txt", "hello", { overwrite: true });
const text = await store.readText("a.txt");
await store.delete("a.txt");
await backend.close();
console.log(text === "hello" ? "round trip ok" : "round trip FAILED");
