import { describe, expect, it } from "vitest";
import { call, expectDocumented, expectError } from "./helpers.ts";

/** The served document as these tests read it: the reference's parts, its version and response headers. */
describe("common HTTP rules", () => {
  it("answers /health without auth", async () => {
    const res = await call("GET", "/health", undefined, { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it("lists the service routes in the OpenAPI document, and ETag / Retry-After headers", async () => {
    const body = await expectDocumented(["/health", "/openapi.json", "/docs"]);
    expect(body.paths["/v1/state/{namespace}/{key}"]?.get?.responses?.["200"]?.headers?.ETag).toBeDefined();
    expect(
      body.paths["/v1/topics/{topic}/events"]?.post?.responses?.["429"]?.headers?.["Retry-After"],
    ).toBeDefined();
  });

  it("serves an OpenAPI 3.1 document with every lock route", async () => {
    const res = await call("GET", "/openapi.json", undefined, { token: null });
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/locks/{name}/acquire",
        "/v1/locks/{name}/release",
        "/v1/locks/{name}/extend",
        "/v1/locks/{name}",
      ]),
    );
  });

  it("renders the API reference at /docs", async () => {
    const res = await call("GET", "/docs", undefined, { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
  });

  it.each([
    ["no token", null, {}],
    ["an unknown token", "nope", {}],
    ["a malformed header", null, { authorization: "Basic abc" }],
  ])("refuses %s with 401", async (_label, token, headers) => {
    const res = await call("GET", "/v1/locks/x", undefined, { token, headers });
    expectError(res, 401, "unauthorized");
  });

  it("answers unknown routes 404 and wrong methods 405, in the error shape", async () => {
    const missing = await call("GET", "/v1/nothing-here");
    expectError(missing, 404, "not_found");
    const wrong = await call("PUT", "/v1/locks/x/acquire", {});
    expectError(wrong, 405, "method_not_allowed");
    expect(wrong.headers.get("allow")).toBe("POST");
  });

  it("answers a non-JSON body 415 and malformed JSON 400", async () => {
    const text = await call("POST", "/v1/locks/x/acquire", undefined, {
      raw: "owner=a",
      headers: { "content-type": "text/plain" },
    });
    expectError(text, 415, "unsupported_media_type");
    const broken = await call("POST", "/v1/locks/x/acquire", undefined, {
      raw: "{",
      headers: { "content-type": "application/json" },
    });
    expectError(broken, 400, "invalid_request");
    expect(broken.error?.details?.field).toBe("body");
    // JSON that is not an object names the body too.
    for (const raw of ["[]", "null", '"owner"']) {
      const notObject = await call("POST", "/v1/locks/x/acquire", undefined, {
        raw,
        headers: { "content-type": "application/json" },
      });
      expectError(notObject, 400, "invalid_request");
      expect(notObject.error?.details?.field).toBe("body");
    }
  });

  it("reads an empty body, with or without a JSON content-type, as {}", async () => {
    for (const headers of [{}, { "content-type": "application/json" }] as Array<Record<string, string>>) {
      // An empty byte body carries no content-type of its own, as `curl -XPOST` without `-d`.
      const res = await call("POST", "/v1/locks/x/acquire", undefined, { raw: new Uint8Array(0), headers });
      expect(res.status).toBe(400);
      expect(res.error?.details?.field).toBe("owner");
    }
  });

  it("answers a trailing slash 404, not 405", async () => {
    const res = await call("GET", "/v1/locks/abc/");
    expectError(res, 404, "not_found");
  });

  it("answers a body over 1 MiB with 413", async () => {
    const res = await call("POST", "/v1/locks/x/acquire", { owner: "a", pad: "x".repeat(1024 * 1024) });
    expectError(res, 413, "payload_too_large");
  });

  it("answers a body over 1 MiB of another type, or of none, 415: the media type is checked first", async () => {
    // Bytes carry no content-type of their own; a string would be sent as text/plain.
    const big = new TextEncoder().encode("x".repeat(2 * 1024 * 1024));
    for (const headers of [{ "content-type": "text/plain" }, {}] as Array<Record<string, string>>) {
      const res = await call("POST", "/v1/locks/x/acquire", undefined, { raw: big, headers });
      expectError(res, 415, "unsupported_media_type");
    }
  });
});
