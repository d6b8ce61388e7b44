/**
 * Unit tests of the Blob XML reader and writer on documents of the service's
 * shapes (Azurite's own bodies: tests/azure/azure_xml_test.ts).
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { blockListXml, parseBlobList, parseStorageError } from "./_xml.ts";

const PAGE = `<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="http://127.0.0.1:10000/devstoreaccount1" ContainerName="c1">
  <Prefix>d/</Prefix>
  <MaxResults>2</MaxResults>
  <Delimiter>/</Delimiter>
  <Blobs>
    <Blob>
      <Name> a &amp; b &lt;c&gt; &quot;q&quot; &apos;x&apos; &#xD;&#x1F600; </Name>
      <Properties>
        <Last-Modified>Tue, 01 Dec 2026 12:00:00 GMT</Last-Modified>
        <Etag>"0x8DC0000000000A1"</Etag>
        <Content-Length>12</Content-Length>
        <Content-Type>text/plain</Content-Type>
        <Content-Encoding>gzip</Content-Encoding>
        <Content-Language>en</Content-Language>
        <Content-MD5>XrY7u+Ae7tCTyyK7j1rNww==</Content-MD5>
        <Cache-Control>no-cache</Cache-Control>
        <Content-Disposition>attachment; filename="a.txt"</Content-Disposition>
      </Properties>
      <Metadata><constructor>c</constructor><__proto__>p</__proto__><toString>t</toString><Blob>b</Blob><Name>n</Name><empty /></Metadata>
    </Blob>
    <Blob><Name Encoded="true">%EF%BF%BEx%20y</Name><Properties><Last-Modified>Tue, 01 Dec 2026 12:00:01 GMT</Last-Modified><Etag>0x8DC0000000000A2</Etag><Content-Length>0</Content-Length></Properties><Metadata /></Blob>
    <BlobPrefix><Name>d/sub/</Name></BlobPrefix>
  </Blobs>
  <NextMarker>2!84!bWFya2Vy</NextMarker>
</EnumerationResults>`;

describe("Blob XML", () => {
  test("a List Blobs page: names with entities and spaces, encoded names, metadata, prefixes, marker", () => {
    const page = parseBlobList(PAGE);
    assert.equal(page.blobs.length, 2);
    const [first, second] = page.blobs;
    assert.equal(first!.name, " a & b <c> \"q\" 'x' \r😀 ");
    assert.equal(first!.contentLength, 12);
    assert.equal(first!.etag, '"0x8DC0000000000A1"');
    assert.equal(first!.lastModified.toISOString(), "2026-12-01T12:00:00.000Z");
    assert.equal(first!.contentType, "text/plain");
    assert.deepEqual(first!.attributes, {
      cacheControl: "no-cache",
      contentEncoding: "gzip",
      contentDisposition: 'attachment; filename="a.txt"',
      contentLanguage: "en",
    });
    assert.equal(first!.contentMd5, "XrY7u+Ae7tCTyyK7j1rNww==");
    assert.deepEqual(Object.keys(first!.metadata).sort(), [
      "Blob",
      "Name",
      "__proto__",
      "constructor",
      "empty",
      "toString",
    ]);
    assert.equal(first!.metadata["constructor"], "c");
    assert.equal(Object.getOwnPropertyDescriptor(first!.metadata, "__proto__")?.value, "p");
    assert.equal(Object.getPrototypeOf(first!.metadata), Object.prototype, "no prototype change");
    assert.equal(first!.metadata["toString"], "t");
    assert.equal(first!.metadata["empty"], "");
    assert.equal(second!.name, "\uFFFEx y");
    assert.equal(second!.contentType, undefined);
    assert.deepEqual(second!.attributes, {});
    assert.equal(second!.contentMd5, undefined);
    assert.deepEqual(second!.metadata, {});
    assert.deepEqual(page.prefixes, ["d/sub/"]);
    assert.equal(page.nextMarker, "2!84!bWFya2Vy");
  });

  test("one blob is still a list; an empty page has no blobs and no marker", () => {
    const one = parseBlobList(
      `<EnumerationResults><Blobs><Blob><Name>x</Name><Properties><Content-Length>1</Content-Length></Properties></Blob></Blobs><NextMarker/></EnumerationResults>`,
    );
    assert.deepEqual(one.blobs.map((b) => b.name), ["x"]);
    assert.equal(one.nextMarker, undefined);
    const empty = parseBlobList(`<EnumerationResults><Blobs /><NextMarker /></EnumerationResults>`);
    assert.deepEqual(empty, { blobs: [], prefixes: [] });
  });

  test("a body that is not a listing is an error saying so", () => {
    for (const body of ["", "<html>busy</html>", "not xml at all"]) {
      assert.throws(() => parseBlobList(body), {
        message: "The List Blobs response is not an EnumerationResults document",
      });
    }
  });

  test("an error body gives its code and message; anything else gives nothing", () => {
    assert.deepEqual(
      parseStorageError(
        `<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.
RequestId:1</Message></Error>`,
      ),
      { code: "BlobNotFound", message: "The specified blob does not exist.\nRequestId:1" },
    );
    assert.deepEqual(parseStorageError(""), {});
    assert.deepEqual(parseStorageError("<html><body>502</body>"), {});
    assert.deepEqual(parseStorageError("<<<"), {});
  });

  test("the block list commits ids in order; an id that is not base64 is a TypeError", () => {
    assert.equal(
      blockListXml(["MDAwMDAx", "MDAwMDAy"]),
      `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>MDAwMDAx</Latest><Latest>MDAwMDAy</Latest></BlockList>`,
    );
    assert.throws(() => blockListXml(["MDAw", "<x>"]), {
      name: "TypeError",
      message: 'The block id "<x>" is not base64',
    });
  });
});

import { parseBlockList } from "./_xml.ts";

describe("Get Block List XML", () => {
  test("committed and uncommitted ids in order, one block or many, ids with + / =", () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>
<BlockList>
  <CommittedBlocks>
    <Block><Name>+/8tMA==</Name><Size>6</Size></Block>
    <Block><Name>YWJjZC0wMDAwMDE=</Name><Size>4194304</Size></Block>
  </CommittedBlocks>
  <UncommittedBlocks><Block><Name>eHl6</Name><Size>1</Size></Block></UncommittedBlocks>
</BlockList>`;
    assert.deepEqual(parseBlockList(xml), {
      committed: ["+/8tMA==", "YWJjZC0wMDAwMDE="],
      uncommitted: ["eHl6"],
    });
  });

  test("no blocks: empty or self-closing lists", () => {
    assert.deepEqual(
      parseBlockList(
        `<BlockList><CommittedBlocks /><UncommittedBlocks></UncommittedBlocks></BlockList>`,
      ),
      { committed: [], uncommitted: [] },
    );
    assert.deepEqual(parseBlockList(`<BlockList/>`), { committed: [], uncommitted: [] });
  });

  test("a body that is not a BlockList document is an error", () => {
    assert.throws(() => parseBlockList("<Error><Code>x</Code></Error>"), {
      message: "The Get Block List response is not a BlockList document",
    });
  });
});
