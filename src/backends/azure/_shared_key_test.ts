/**
 * Unit tests of the Web Crypto Shared Key signer: byte-for-byte the same
 * signature as the `@azure/storage-blob` SDK's `StorageSharedKeyCredential`
 * for a table of Blob requests (and for generated `x-ms-meta-` header sets,
 * which exercise the culture-aware header order), the documented choices
 * where the SDK signs differently, and no key in any printed form.
 *
 * Against servers (Azurite, the DFS emulator): tests/azure/shared_key_test.ts.
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { StorageSharedKeyCredential } from "@azure/storage-blob";
import { Prng } from "../../../tests/_prng.ts";
import { SharedKeySigner, stringToSign } from "./_shared_key.ts";

const ACCOUNT = "devstoreaccount1";
const KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const BASE = `http://127.0.0.1:10000/${ACCOUNT}`;
const DATE = "Tue, 01 Dec 2026 12:00:00 GMT";
const VERSION = "2026-02-06";

interface Case {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** The part of the SDK's policy interface the test drives. */
interface SdkPolicy {
  signRequest(request: unknown): unknown;
}

/**
 * The SDK's own signature for a request: its `StorageSharedKeyCredentialPolicy`
 * signs a request object whose headers are the same `Headers` instance. It
 * stamps `x-ms-date` itself; the test then signs with the date it set.
 */
function sdkSign(method: string, url: string, headers: Headers): string {
  const credential = new StorageSharedKeyCredential(ACCOUNT, KEY);
  const policy = credential.create(
    { sendRequest: () => Promise.reject(new Error("not sent")) },
    { log: () => {}, shouldLog: () => false },
  ) as unknown as SdkPolicy;
  const request = {
    method,
    url,
    body: undefined,
    headers: {
      get: (name: string) => headers.get(name) ?? undefined,
      set: (name: string, value: unknown) => headers.set(name, String(value)),
      headersArray: () => [...headers].map(([name, value]) => ({ name, value })),
    },
  };
  policy.signRequest(request);
  return headers.get("authorization")!;
}

/** Our signature over the same request (with the date the SDK stamped). */
async function oursSign(method: string, url: string, headers: Headers): Promise<string> {
  return await new SharedKeySigner(ACCOUNT, KEY).authorization({ method, url, headers });
}

function withCommon(headers: Record<string, string>): Headers {
  return new Headers({ "x-ms-version": VERSION, "x-ms-date": DATE, ...headers });
}

const enc = encodeURIComponent;

const CASES: Case[] = [
  {
    name: "GET blob with a range and read conditions",
    method: "GET",
    url: `${BASE}/c1/dir/file.bin`,
    headers: {
      range: "bytes=0-1048575",
      "x-ms-range": "bytes=0-1048575",
      "if-match": '"0x8DC1234567890AB"',
      "if-none-match": '"0x8DCFFFF"',
      "if-modified-since": "Mon, 30 Nov 2026 10:00:00 GMT",
      "if-unmodified-since": "Tue, 01 Dec 2026 10:00:00 GMT",
      "x-ms-client-request-id": "1b4f6c9e-0c1d-4e0a-9e44-8cbb0a4d0001",
    },
  },
  {
    name: "PUT blob with a content type, metadata and create-only",
    method: "PUT",
    url: `${BASE}/c1/${enc("a b")}/${enc("ünï €")}.txt`,
    headers: {
      "content-length": "11",
      "content-type": "text/plain; charset=utf-8",
      "x-ms-blob-type": "BlockBlob",
      "x-ms-blob-content-type": "text/plain",
      "x-ms-meta-author": "someone  with  spaces",
      "x-ms-meta-Origin": "bench",
      "if-none-match": "*",
    },
  },
  {
    name: "PUT block",
    method: "PUT",
    url: `${BASE}/c1/big.bin?comp=block&blockid=${enc(btoa("block-000001"))}`,
    headers: { "content-length": "8388608" },
  },
  {
    name: "PUT block list with If-Match",
    method: "PUT",
    url: `${BASE}/c1/big.bin?comp=blocklist`,
    headers: {
      "content-length": "120",
      "content-type": "application/xml",
      "if-match": '"0x8DC00"',
      "x-ms-blob-content-type": "application/octet-stream",
    },
  },
  {
    name: "List Blobs with prefix, delimiter and marker (unicode, spaces, +, =)",
    method: "GET",
    url: `${BASE}/c1?restype=container&comp=list&prefix=${enc("dïr with space/a+b ")}` +
      `&delimiter=${enc("/")}&marker=${enc("2!84!MDAwMDE1IWRpciB3aXRoIHNwYWNlL2ErYg--+=")}` +
      `&maxresults=5000&include=${enc("metadata,uncommittedblobs")}`,
    headers: {},
  },
  {
    name: "DELETE blob",
    method: "DELETE",
    url: `${BASE}/c1/dir/file.bin`,
    headers: { "x-ms-delete-snapshots": "include" },
  },
  {
    name: "HEAD blob (Get Blob Properties)",
    method: "HEAD",
    url: `${BASE}/c1/${enc("weird ~!*'()")}.bin`,
    headers: {},
  },
  {
    name: "PUT with Content-Length 0 (create container)",
    method: "PUT",
    url: `${BASE}/c1?restype=container`,
    headers: { "content-length": "0" },
  },
  {
    name: "Copy Blob with a source URL",
    method: "PUT",
    url: `${BASE}/c1/dest.bin`,
    headers: {
      "content-length": "0",
      "x-ms-copy-source": `${BASE}/c1/${enc("src file")}.bin`,
      "x-ms-requires-sync": "true",
    },
  },
  {
    name: "DFS rename (x-ms-rename-source)",
    method: "PUT",
    url: `${BASE.replace(":10000", ":10004")}/fs/new/path.txt?mode=legacy`,
    headers: { "content-length": "0", "x-ms-rename-source": "/fs/old/path.txt" },
  },
  {
    name: "metadata names the culture-aware order sorts differently from code units",
    method: "PUT",
    url: `${BASE}/c1/m.bin?comp=metadata`,
    headers: {
      "x-ms-meta-ab": "1",
      "x-ms-meta-a-b": "2",
      "x-ms-meta-a_b": "3",
      "x-ms-meta-a'b": "4",
      "x-ms-meta-a.b": "5",
      "x-ms-meta-a~b": "6",
      "x-ms-meta-a+b": "7",
      "x-ms-meta-a1": "8",
      "x-ms-meta-a": "9",
      "x-ms-meta-a-": "10",
    },
  },
];

describe("Shared Key signer", () => {
  for (const c of CASES) {
    test(`signs like the SDK: ${c.name}`, async () => {
      const headers = withCommon(c.headers);
      const sdk = sdkSign(c.method, c.url, headers);
      assert.match(sdk, /^SharedKey devstoreaccount1:[A-Za-z0-9+/]{43}=$/);
      assert.equal(await oursSign(c.method, c.url, headers), sdk);
    });
  }

  test("signs like the SDK for generated x-ms-meta- header sets", async () => {
    const prng = new Prng(12);
    const alphabet = "abcz019-_.'~+!#$%&*^`|".split("");
    for (let round = 0; round < 200; round++) {
      const headers = withCommon({});
      const count = prng.int(2, 8);
      for (let i = 0; i < count; i++) {
        let name = "x-ms-meta-" + prng.pick("abcz".split(""));
        for (let n = prng.int(0, 5); n > 0; n--) name += prng.pick(alphabet);
        headers.set(name, String(i));
      }
      const url = `${BASE}/c1/m.bin?comp=metadata`;
      const sdk = sdkSign("PUT", url, headers);
      assert.equal(await oursSign("PUT", url, headers), sdk, [...headers.keys()].join(" "));
    }
  });

  test("the string to sign has the documented layout", () => {
    const text = stringToSign({
      method: "put",
      url: `${BASE}/c1/f.txt?comp=block&blockid=${enc("QQ==")}`,
      headers: new Headers({
        "content-length": "3",
        "content-type": "text/plain",
        "x-ms-version": VERSION,
        "x-ms-date": DATE,
        "x-ms-meta-a": "  padded  value",
      }),
    }, ACCOUNT);
    assert.equal(
      text,
      [
        "PUT",
        "",
        "",
        "3",
        "",
        "text/plain",
        "",
        "",
        "",
        "",
        "",
        "",
        `x-ms-date:${DATE}`,
        "x-ms-meta-a:padded  value",
        `x-ms-version:${VERSION}`,
        `/${ACCOUNT}/${ACCOUNT}/c1/f.txt`,
        "blockid:QQ==",
        "comp:block",
      ].join("\n"),
    );
  });

  test("Content-Encoding comes before Content-Language, as documented (the SDK swaps them)", async () => {
    const headers = withCommon({ "content-language": "en", "content-length": "2" });
    const text = stringToSign({ method: "PUT", url: `${BASE}/c1/f`, headers }, ACCOUNT);
    assert.deepEqual(text.split("\n").slice(0, 4), ["PUT", "", "en", "2"]);
    const url = `${BASE}/c1/f`;
    assert.notEqual(await oursSign("PUT", url, headers), sdkSign("PUT", url, headers));
  });

  test("query parameters: + is a space, empty values kept, repeated names joined sorted", () => {
    const text = stringToSign({
      method: "GET",
      url:
        `${BASE}/c1?restype=container&comp=list&prefix=a+b%2Bc&marker=&Include=tags&include=metadata`,
      headers: withCommon({}),
    }, ACCOUNT);
    assert.deepEqual(text.split("\n").slice(-5), [
      "comp:list",
      "include:metadata,tags",
      "marker:",
      "prefix:a b+c",
      "restype:container",
    ]);
  });

  test("the path is signed as sent, percent-encoded", () => {
    const text = stringToSign({
      method: "GET",
      url: new URL(`${BASE}/c1/dir with space/ü#`.replace("#", "%23")),
      headers: withCommon({}),
    }, ACCOUNT);
    assert.equal(text.split("\n").at(-1), `/${ACCOUNT}/${ACCOUNT}/c1/dir%20with%20space/%C3%BC%23`);
  });

  test("sign() stamps x-ms-date and sets Authorization", async () => {
    const headers = new Headers({ "x-ms-version": VERSION });
    const request = { method: "GET", url: `${BASE}/c1/f`, headers };
    const signer = new SharedKeySigner(ACCOUNT, KEY);
    await signer.sign(request, new Date(Date.UTC(2026, 11, 1, 12)));
    assert.equal(headers.get("x-ms-date"), DATE);
    // Signed over the stamped date (Authorization itself is not part of the string to sign).
    assert.equal(headers.get("authorization"), await signer.authorization(request));
    assert.notEqual(
      headers.get("authorization"),
      await signer.authorization({
        ...request,
        headers: new Headers({
          "x-ms-version": VERSION,
          "x-ms-date": "Mon, 30 Nov 2026 12:00:00 GMT",
        }),
      }),
    );
  });

  test("a signer imports the key once and reuses it", async () => {
    const signer = new SharedKeySigner(ACCOUNT, KEY);
    const a = await signer.hmac("one");
    const b = await signer.hmac("one");
    assert.equal(a, b);
    assert.notEqual(await signer.hmac("two"), a);
    assert.notEqual(await new SharedKeySigner(ACCOUNT, btoa("other key")).hmac("one"), a);
  });

  test("a key that is not base64, an empty key or an empty account name is a TypeError", () => {
    assert.throws(() => new SharedKeySigner(ACCOUNT, "not base64!"), {
      name: "TypeError",
      message: "The account key is not valid base64",
    });
    assert.throws(() => new SharedKeySigner(ACCOUNT, ""), {
      name: "TypeError",
      message: "The account key is empty",
    });
    assert.throws(() => new SharedKeySigner("", KEY), {
      name: "TypeError",
      message: "The account name is empty",
    });
  });

  test("no printed form of a signer shows the key", () => {
    const signer = new SharedKeySigner(ACCOUNT, KEY);
    for (const text of [String(signer), JSON.stringify(signer), inspect(signer, { depth: 5 })]) {
      assert.ok(!text.includes(KEY.slice(0, 12)), text);
    }
    assert.match(inspect(signer), /devstoreaccount1/);
  });
});
