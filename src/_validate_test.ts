import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  checkContentType,
  checkHeaderValue,
  checkMetadata,
  checkWriteValues,
  isContentType,
  MAX_METADATA_BYTES,
} from "./_validate.ts";

describe("header and metadata validation", () => {
  test("MIME types: type/subtype with token or quoted parameters", () => {
    const good = [
      "text/plain",
      "text/plain; charset=utf-8",
      "text/plain;charset=UTF-8",
      "application/vnd.apache.parquet",
      "image/svg+xml",
      'multipart/form-data; boundary="a b;c"',
      "application/octet-stream",
    ];
    for (const type of good) {
      assert.doesNotThrow(() => checkContentType("contentType", type), type);
      assert.equal(isContentType(type), true, type);
    }
    const bad = [
      "",
      "text",
      "text/",
      "/plain",
      "text/plain;",
      "text/plain; charset",
      "text/plain; charset=ü",
      "text/plain\r\nx: y",
      "text/plain\n",
      "text/plain\0",
      "text /plain",
      " text/plain",
      "text/plain\x7f",
    ];
    for (const type of bad) {
      assert.throws(() => checkContentType("contentType", type), TypeError, JSON.stringify(type));
      assert.equal(isContentType(type), false, JSON.stringify(type));
    }
    assert.equal(isContentType(undefined), false);
    assert.equal(isContentType(Object), false, "the Object function is not a content type");
    assert.throws(() => checkContentType("contentType", 42), /contentType must be a string/);
  });

  test("header values: visible ASCII with inner spaces; the message says why", () => {
    checkHeaderValue("contentDisposition", 'attachment; filename="a b.csv"');
    const cases: [string, RegExp][] = [
      ["a\r\nb", /line break or NUL/],
      ["a\x07b", /control character/],
      ["naïve", /non-ASCII/],
      ["a ", /whitespace/],
      ["", /empty/],
    ];
    for (const [value, reason] of cases) {
      assert.throws(
        () => checkHeaderValue("contentDisposition", value),
        (e: unknown) =>
          e instanceof TypeError && reason.test(e.message) &&
          e.message.startsWith(`contentDisposition ${JSON.stringify(value)}`),
        JSON.stringify(value),
      );
    }
  });

  test("metadata: Azure's names, unique ignoring case, header values, 8 KiB in all", () => {
    checkMetadata({});
    checkMetadata({ _a: "1", B2: "two words", c_d: "x" });
    for (const name of ["", "a-b", "1abc", "a.b", "a b", "é", "a\n"]) {
      assert.throws(() => checkMetadata({ [name]: "v" }), TypeError, JSON.stringify(name));
    }
    assert.throws(() => checkMetadata({ Key: "1", KEY: "2" }), /differ only in case/);
    assert.throws(() => checkMetadata(null), TypeError);
    assert.throws(() => checkMetadata(["a"]), TypeError);
    const exact = { k: "x".repeat(MAX_METADATA_BYTES - 1) };
    checkMetadata(exact);
    assert.throws(() => checkMetadata({ k: "x".repeat(MAX_METADATA_BYTES) }), RangeError);
    assert.throws(
      () => checkMetadata({ a: "x".repeat(4096), b: "y".repeat(4095) }),
      /8193 bytes of names and values; at most 8192/,
    );
  });

  test("HTTP attributes: header values, each named in the message", () => {
    assert.doesNotThrow(() =>
      checkWriteValues({
        cacheControl: "public, max-age=60",
        contentEncoding: "gzip",
        contentDisposition: 'attachment; filename="a b.txt"',
        contentLanguage: "en-GB, de",
      })
    );
    const bad: [string, unknown, RegExp][] = [
      ["cacheControl", "a\r\nb", /cacheControl .*line break/],
      ["contentEncoding", "", /contentEncoding .*empty/],
      ["contentDisposition", 'inline; filename="é"', /contentDisposition .*non-ASCII/],
      ["contentLanguage", " en", /contentLanguage .*whitespace/],
      ["cacheControl", 1, /cacheControl must be a string/],
    ];
    for (const [name, value, message] of bad) {
      assert.throws(() => checkWriteValues({ [name]: value }), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, message);
        return true;
      });
    }
  });
});
