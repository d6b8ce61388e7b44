/**
 * Unit tests of the SDK clients `unwrap` builds from the class the caller
 * passes: endpoints and credentials for every kind of authentication, without
 * I/O (the clients at work against Azurite and the DFS emulator:
 * tests/azure/azure_sdk_clients_test.ts).
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  AnonymousCredential,
  BlobServiceClient,
  ContainerClient,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import {
  DataLakeFileSystemClient,
  DataLakeServiceClient,
  StorageSharedKeyCredential as DataLakeSharedKeyCredential,
} from "@azure/storage-file-datalake";
import { sdkClient } from "./_sdk_clients.ts";
import type { AzureBackendOptions } from "./_options.ts";
import { CapabilityNotSupportedError } from "../../errors.ts";

const ACCOUNT = "devstoreaccount1";
const KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const BLOB = `http://127.0.0.1:10000/${ACCOUNT}`;

const token = {
  calls: 0,
  getToken() {
    this.calls++;
    return Promise.resolve({ token: "t", expiresOnTimestamp: Date.now() + 60_000 });
  },
};

describe("sdkClient", () => {
  test("an account key: SDK shared-key credentials on the blob and DFS endpoints", () => {
    const options: AzureBackendOptions = {
      container: "c-1",
      accountName: ACCOUNT,
      accountKey: KEY,
      accountUrl: BLOB,
      dfsUrl: "http://127.0.0.1:10004/devstoreaccount1",
    };
    const container = sdkClient(ContainerClient, options, undefined)!;
    assert.ok(container instanceof ContainerClient);
    assert.equal(container.url, `${BLOB}/c-1`);
    assert.equal(container.containerName, "c-1");
    assert.ok(container.credential instanceof StorageSharedKeyCredential);
    assert.equal((container.credential as StorageSharedKeyCredential).accountName, ACCOUNT);

    const service = sdkClient(BlobServiceClient, options, undefined)!;
    assert.ok(service instanceof BlobServiceClient);
    assert.equal(service.url, BLOB);
    assert.ok(service.credential instanceof StorageSharedKeyCredential);

    const fileSystem = sdkClient(DataLakeFileSystemClient, options, undefined)!;
    assert.ok(fileSystem instanceof DataLakeFileSystemClient);
    assert.equal(fileSystem.url, "http://127.0.0.1:10004/devstoreaccount1/c-1");
    assert.equal(fileSystem.name, "c-1");
    assert.ok(fileSystem.credential instanceof DataLakeSharedKeyCredential);
    assert.equal((fileSystem.credential as StorageSharedKeyCredential).accountName, ACCOUNT);
  });

  test("Azurite's development connection string", () => {
    const options = { container: "c-1", connectionString: "UseDevelopmentStorage=true" };
    const container = sdkClient(ContainerClient, options, undefined)!;
    assert.equal(container.url, `${BLOB}/c-1`);
    assert.equal((container.credential as StorageSharedKeyCredential).accountName, ACCOUNT);
    const fileSystem = sdkClient(DataLakeFileSystemClient, options, undefined)!;
    assert.ok(fileSystem.credential instanceof DataLakeSharedKeyCredential);
  });

  test("a SAS token rides in the URL, with anonymous SDK credentials", () => {
    const options = { container: "c-1", accountUrl: BLOB, sasToken: "sv=2025-01-05&sp=r&sig=abc" };
    const container = sdkClient(ContainerClient, options, undefined)!;
    assert.equal(container.url, `${BLOB}/c-1?sv=2025-01-05&sp=r&sig=abc`);
    assert.ok(container.credential instanceof AnonymousCredential);
    const service = sdkClient(BlobServiceClient, options, undefined)!;
    assert.equal(service.url, `${BLOB}?sv=2025-01-05&sp=r&sig=abc`);
    const fileSystem = sdkClient(DataLakeFileSystemClient, options, undefined)!;
    assert.equal(fileSystem.url, `${BLOB}/c-1?sv=2025-01-05&sp=r&sig=abc`);
    assert.ok(fileSystem.credential instanceof AnonymousCredential);
  });

  test("anonymous access", () => {
    const options = { container: "c-1", connectionString: `BlobEndpoint=${BLOB};` };
    const container = sdkClient(ContainerClient, options, undefined)!;
    assert.equal(container.url, `${BLOB}/c-1`);
    assert.ok(container.credential instanceof AnonymousCredential);
    assert.ok(
      sdkClient(BlobServiceClient, options, undefined)!.credential instanceof AnonymousCredential,
    );
  });

  test("a token credential is used as given, and not called", () => {
    const options = { container: "c-1", accountName: "someaccount", credential: token };
    for (const type of [ContainerClient, BlobServiceClient, DataLakeFileSystemClient] as const) {
      const client = sdkClient<{ credential: unknown; url: string }>(type, options, undefined)!;
      assert.equal(client.credential, token, type.name);
    }
    assert.equal(
      sdkClient(DataLakeFileSystemClient, options, undefined)!.url,
      "https://someaccount.dfs.core.windows.net/c-1",
    );
    assert.equal(token.calls, 0);
  });

  test("default authentication takes the credential the backend passes", () => {
    const options = { container: "c-1", accountName: "someaccount" };
    const own = { getToken: token.getToken.bind(token) };
    const container = sdkClient(ContainerClient, options, own)!;
    assert.equal(container.credential, own);
    assert.equal(container.url, "https://someaccount.blob.core.windows.net/c-1");
    assert.throws(
      () => sdkClient(ContainerClient, options, undefined),
      CapabilityNotSupportedError,
    );
  });

  test("clientOptions and the retry settings reach the SDK pipeline", () => {
    const container = sdkClient(ContainerClient, {
      container: "c-1",
      accountName: "someaccount",
      credential: token,
      clientOptions: { userAgentOptions: { userAgentPrefix: "rs-test" } },
      retry: { maxTries: 7, retryDelayMs: 5 },
    }, undefined)!;
    // `pipeline` is public in JavaScript (protected in the SDK's types).
    const { pipeline } = container as unknown as { pipeline: { options: unknown } };
    const pipelineOptions = pipeline.options as {
      retryOptions?: { maxTries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
      userAgentOptions?: { userAgentPrefix?: string };
    };
    assert.equal(pipelineOptions.retryOptions?.maxTries, 7);
    assert.equal(pipelineOptions.retryOptions?.retryDelayInMs, 5);
    assert.equal(pipelineOptions.retryOptions?.maxRetryDelayInMs, 30_000);
    assert.equal(pipelineOptions.userAgentOptions?.userAgentPrefix, "rs-test");
  });

  test("subclasses are recognized by their methods; other classes are not", () => {
    class MyContainerClient extends ContainerClient {}
    const options = { container: "c-1", accountName: ACCOUNT, accountKey: KEY, accountUrl: BLOB };
    assert.ok(sdkClient(MyContainerClient, options, undefined) instanceof MyContainerClient);
    assert.equal(sdkClient(DataLakeServiceClient, options, undefined), undefined);
    assert.equal(sdkClient(Map, options, undefined), undefined);
    assert.equal(sdkClient(class ContainerClientLike {}, options, undefined), undefined);
  });
});
