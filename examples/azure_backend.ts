/**
 * Azure backend: connect to Azure Blob Storage or Azure Data Lake Storage Gen2.
 *
 * Demonstrates:
 * - Configuring an Azure backend through a RegistryConfig
 * - Two stores on one container (data + archive, showing isolation)
 * - File operations: write, read, list, copy, move, delete
 * - Streaming read (line by line, pulled on demand) and random access by byte range
 * - Escape hatch: unwrap() to reach the SDK's DataLakeFileSystemClient
 *
 * Prerequisites: an Azure Storage account with a container already created
 * (or run `deno task demo`, which starts a local Azurite and creates one).
 *
 * Environment variables:
 *   RS_AZURE_CONTAINER  Container name (required)
 *   RS_AZURE_CONN       Connection string (simplest auth method)
 *   RS_AZURE_ACCOUNT    Storage account name
 *   RS_AZURE_KEY        Storage account key
 *
 * @module
 */

import process from "node:process";
import { DataLakeFileSystemClient } from "@azure/storage-file-datalake";
import { Registry, type RegistryConfig } from "../mod.ts";
import { AzureBackend, azureBackendType } from "../azure.ts";

const HELP = `Set RS_AZURE_CONTAINER to run this example.
Auth (pick one): RS_AZURE_CONN, or RS_AZURE_ACCOUNT + RS_AZURE_KEY

Example with Azurite:
  RS_AZURE_CONTAINER=test RS_AZURE_CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;" deno run -A examples/azure_backend.ts
(or simply: deno task demo)`;

/** Splits a byte stream into text lines, pulled on demand. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const bytes of stream) {
    const parts = (rest + decoder.decode(bytes, { stream: true })).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  rest += decoder.decode();
  if (rest) yield rest;
}

/**
 * Runs the example against the account the environment names.
 *
 * @param env The environment (RS_AZURE_* variables).
 * @returns `false` when RS_AZURE_CONTAINER is missing (help was printed).
 */
export async function runAzureExample(env: Record<string, string | undefined>): Promise<boolean> {
  const container = env.RS_AZURE_CONTAINER ?? "";
  if (!container) {
    console.log(HELP);
    return false;
  }

  // --- Build options from whichever env vars are set ---
  const options: Record<string, unknown> = { container };
  if (env.RS_AZURE_CONN) options.connectionString = env.RS_AZURE_CONN;
  if (env.RS_AZURE_ACCOUNT) options.accountName = env.RS_AZURE_ACCOUNT;
  if (env.RS_AZURE_KEY) options.accountKey = env.RS_AZURE_KEY;

  // --- Two stores on one container, different rootPath ---
  const config: RegistryConfig = {
    backends: { azure: { type: "azure", options } },
    stores: {
      data: { backend: "azure", rootPath: "example/data" },
      archive: { backend: "azure", rootPath: "example/archive" },
    },
  };

  {
    await using registry = new Registry(config, { backendTypes: [azureBackendType] });
    const data = registry.getStore("data");
    const archive = registry.getStore("archive");

    // --- Write ---
    await data.write("report.csv", "revenue,profit\n100,20\n200,40\n");
    await data.write("notes/todo.txt", "Ship v1.0");
    await archive.write("2024/summary.txt", "Year-end summary");
    console.log("Wrote 3 files across 2 stores.");
    console.log(
      `Isolation: archive sees report.csv? ${await archive.exists("report.csv")}; ` +
        `data sees 2024/summary.txt? ${await data.exists("2024/summary.txt")}`,
    );

    // --- Read ---
    const content = await data.readText("report.csv");
    console.log(`\nreport.csv:\n${content}`);

    // --- Metadata ---
    const info = await data.getFileInfo("report.csv");
    console.log(
      `report.csv size=${info.size} modified=${info.modifiedAt.toISOString()} ` +
        `type=${info.contentType}`,
    );

    // --- List files (recursive) ---
    console.log("\ndata/ (recursive):");
    for await (const f of data.listFiles("", { recursive: true })) {
      console.log(`  ${f.path} (${f.size} bytes)`);
    }

    // --- Folder info ---
    const folderInfo = await data.getFolderInfo("notes");
    console.log(
      `\nnotes/ totals: ${folderInfo.fileCount} files, ${folderInfo.totalSize} bytes`,
    );

    // --- Copy (server-side) ---
    await data.copy("report.csv", "report_backup.csv");
    console.log(
      `\nCopied report.csv -> report_backup.csv (exists: ${await data.exists(
        "report_backup.csv",
      )})`,
    );

    // --- Move ---
    // On HNS-enabled accounts (ADLS Gen2), move is an atomic rename.
    // On flat Blob Storage (and Azurite), it is a server-side copy, then a delete.
    await data.move("report_backup.csv", "archive_report.csv");
    console.log(
      `Moved to archive_report.csv (original exists: ${await data.exists(
        "report_backup.csv",
      )}, atomic: ${data.supports("atomic_move")})`,
    );

    // --- Streaming read ---
    // read() returns a ReadableStream pulled from the service on demand:
    // nothing is loaded into memory up front. It also pipes into `new Response(stream)`.
    console.log("\nStreaming read (line by line):");
    for await (const line of lines(await data.read("report.csv"))) {
      if (line) console.log(`  ${line}`);
    }

    // --- Random access ---
    // A byte range becomes one ranged GET; no need to download the whole file.
    const header = await data.readText("report.csv", { range: { offset: 0, length: 14 } });
    const tail = await data.readText("report.csv", { range: { offset: 15 } });
    console.log(`Range read: header=${JSON.stringify(header)} rest=${JSON.stringify(tail)}`);

    // --- Cleanup ---
    for await (const f of data.listFiles("", { recursive: true })) await data.delete(f.path);
    for await (const f of archive.listFiles("", { recursive: true })) {
      await archive.delete(f.path);
    }
    console.log("\nCleaned up all example files.");
  }

  // --- Escape hatch: unwrap() via direct construction ---
  const backend = new AzureBackend({
    container,
    connectionString: env.RS_AZURE_CONN,
    accountName: env.RS_AZURE_ACCOUNT,
    accountKey: env.RS_AZURE_KEY,
  });
  try {
    const fsClient = backend.unwrap(DataLakeFileSystemClient);
    console.log(`\nFileSystemClient: ${fsClient.constructor.name} (${fsClient.name})`);
  } finally {
    await backend.close();
  }

  // --- Authentication methods (not run) ---
  //
  // 1. Account key
  //    new AzureBackend({ container: "my-container", accountName: "mystorageaccount", accountKey: "base64-key" });
  //
  // 2. SAS token
  //    new AzureBackend({ container: "my-container", accountName: "mystorageaccount", sasToken: "sv=2023-11-03&..." });
  //
  // 3. Connection string
  //    new AzureBackend({ container: "my-container", connectionString: "DefaultEndpointsProtocol=https;AccountName=...;" });
  //
  // 4. Any TokenCredential (for example from @azure/identity)
  //    new AzureBackend({ container: "my-container", accountName: "mystorageaccount", credential: new ManagedIdentityCredential() });
  //
  // 5. DefaultAzureCredential (env vars, managed identity, Azure CLI): no key, token or credential
  //    new AzureBackend({ container: "my-container", accountName: "mystorageaccount" });

  console.log("\nDone!");
  return true;
}

if (import.meta.main) {
  const ok = await runAzureExample(process.env);
  if (!ok) process.exitCode = 1;
}
