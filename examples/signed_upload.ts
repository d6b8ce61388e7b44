/**
 * Direct browser uploads: the server signs one upload, the browser sends the
 * file straight to Azure with `fetch` (no bytes through the server).
 *
 * `deno run -A examples/signed_upload.ts` (or `bun` / `node`) runs both halves
 * against a local Azurite it starts and stops (or against the account of
 * `RS_AZURE_CONN` and `RS_AZURE_CONTAINER` when they are set).
 * `tests/azure/azure_signed_upload_test.ts` runs them on every runtime.
 *
 * @module
 */

import process from "node:process";
import { ContainerClient } from "@azure/storage-blob";
import { putSignedUpload, Store } from "../mod.ts";
import { AzureBackend } from "../azure.ts";
import { startAzurite } from "../tests/_azurite.ts";

/**
 * Server half: `POST /api/uploads?name=photo.jpg&type=image/jpeg` answers
 * `{ path, upload }`, the upload signed for ten minutes at a path of its own.
 *
 * @param store Where uploads go.
 * @param request The browser's request.
 * @returns JSON `{ path, upload }`, or 400 for a bad name or type.
 */
export async function handleUploadRequest(store: Store, request: Request): Promise<Response> {
  const query = new URL(request.url).searchParams;
  const name = query.get("name") ?? "";
  if (!/^[\w.-]{1,100}$/.test(name)) return new Response("Bad file name", { status: 400 });
  // A fresh folder per upload: nothing to overwrite, so overwrite: true only
  // enables uploads in blocks for large files.
  const path = `inbox/${crypto.randomUUID()}/${name}`;
  try {
    const upload = await store.signedUpload(path, {
      expiresIn: 600,
      overwrite: true,
      contentType: query.get("type") || undefined,
    });
    return Response.json({ path, upload });
  } catch (error) {
    if (error instanceof TypeError) return new Response(error.message, { status: 400 });
    throw error;
  }
}

/**
 * Browser half: asks the server for a signed upload, then sends the file.
 *
 * @param file The file the user picked.
 * @param endpoint The server's upload endpoint.
 * @param send The `fetch` to use.
 * @returns The path the file was stored at.
 */
export async function uploadFromBrowser(
  file: File,
  endpoint: string,
  send: typeof fetch = fetch,
): Promise<string> {
  const query = `name=${encodeURIComponent(file.name)}&type=${encodeURIComponent(file.type)}`;
  const response = await send(`${endpoint}?${query}`, { method: "POST" });
  if (!response.ok) throw new Error(`The server refused the upload: ${response.status}`);
  const { path, upload } = await response.json();
  await putSignedUpload(upload, file, {
    fetch: send,
    onProgress: (loaded, total) => console.log(`${Math.round((100 * loaded) / total)}%`),
  });
  return path;
}

if (import.meta.main) {
  const own = process.env.RS_AZURE_CONN ? undefined : await startAzurite();
  const connectionString = process.env.RS_AZURE_CONN ?? own!.connectionString;
  const container = process.env.RS_AZURE_CONTAINER ?? "uploads";
  if (own) await new ContainerClient(connectionString, container).createIfNotExists();
  const backend = new AzureBackend({ connectionString, container });
  const store = new Store(backend);
  try {
    // The browser's fetch: the API goes to the server half, the rest to the network.
    const send: typeof fetch = (input, init) =>
      String(input).startsWith("/api/uploads")
        ? handleUploadRequest(store, new Request(new URL(String(input), "http://app"), init))
        : fetch(input, init);
    const file = new File([new Uint8Array(20 * 1024 * 1024).fill(7)], "video.bin", {
      type: "application/octet-stream",
    });
    const path = await uploadFromBrowser(file, "/api/uploads", send);
    const info = await store.getFileInfo(path);
    console.log(`Stored ${info.size} bytes at ${path} (${info.contentType})`);
  } finally {
    await backend.close();
    await own?.stop();
  }
}
