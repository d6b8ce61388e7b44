/**
 * `deno task demo`: runs the Azure example. With RS_AZURE_CONTAINER set it
 * uses that account as is; otherwise it starts an in-memory Azurite on a free
 * loopback port, creates a container, runs the example and stops Azurite.
 *
 * @module
 */

import process from "node:process";
import { ContainerClient } from "@azure/storage-blob";
import { startAzurite } from "../tests/_azurite.ts";
import { runAzureExample } from "./azure_backend.ts";

if (process.env.RS_AZURE_CONTAINER) {
  process.exitCode = (await runAzureExample(process.env)) ? 0 : 1;
} else {
  console.log("RS_AZURE_CONTAINER is not set: starting a local Azurite for the demo.");
  const azurite = await startAzurite();
  try {
    const container = "demo";
    await new ContainerClient(azurite.connectionString, container).createIfNotExists();
    console.log(`Azurite is listening at ${azurite.url}; container "${container}" is ready.\n`);
    const ok = await runAzureExample({
      RS_AZURE_CONTAINER: container,
      RS_AZURE_CONN: azurite.connectionString,
    });
    process.exitCode = ok ? 0 : 1;
  } finally {
    await azurite.stop();
  }
}
