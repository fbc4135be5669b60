import { describe, expect, it } from "vitest";
import { webhookUrlProblem } from "../../../durable-objects/logic/webhook-url.ts";

const strict = { allowInsecure: false };
const dev = { allowInsecure: true };

describe("webhook URL rules", () => {
  it.each([
    "https://example.com/hook",
    "https://8.8.8.8/hook",
    "https://[2001:4860:4860::8888]/hook",
    "https://[2002:808:808::1]/hook",
    "https://hooks.example.com:8443/a?b=c",
  ])("accepts %s", (url) => {
    expect(webhookUrlProblem(url, strict)).toBeUndefined();
  });

  it.each([
    "http://example.com/hook",
    "ftp://example.com/",
    "not a url",
    "https://127.0.0.1/",
    "https://127.1.2.3/",
    "https://0x7f.1/",
    "https://2130706433/",
    "https://localhost/",
    "https://api.localhost./",
    "https://10.0.0.1/",
    "https://172.16.5.4/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/",
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://[::1]/",
    "https://[::]/",
    "https://[fe80::1]/",
    "https://[fd00::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:10.1.2.3]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://[::7f00:1]/",
    "https://[::a00:1]/",
    "https://[2002:a00:1::]/",
    "https://[2002:7f00:1::1]/",
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "https://[2001:db8::1]/",
    "https://192.0.2.10/",
    "https://198.51.100.7/",
    "https://203.0.113.99/",
    // API 1.2: names only a local resolver knows, and more IPv6 ranges.
    "https://vm/",
    "https://vm:28443/hook",
    "https://x.localhost/",
    "https://printer.local/",
    "https://db.internal/",
    "https://nas.home.arpa/",
    "https://router.lan/",
    "https://[::ffff:0:127.0.0.1]/",
    "https://[::ffff:8.8.8.8]/",
    "https://[64:ff9b:1::7f00:1]/",
    "https://[64:ff9b:1:abcd::8.8.8.8]/",
    "https://[fec0::1]/",
    "https://[feff::1]/",
  ])("refuses %s", (url) => {
    expect(webhookUrlProblem(url, strict)).toBeDefined();
  });

  it.each([
    "http://localhost:9000/hook",
    "http://x.localhost/",
    "http://vm:28443/hook",
    "http://[::ffff:0:127.0.0.1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[64:ff9b:1::7f00:1]/",
    "http://[fec0::1]/",
  ])("refuses %s even with ALLOW_INSECURE_WEBHOOKS (only literal loopback addresses pass)", (url) => {
    expect(webhookUrlProblem(url, dev)).toBeDefined();
  });

  it("with ALLOW_INSECURE_WEBHOOKS allows loopback over http, nothing else new", () => {
    expect(webhookUrlProblem("http://127.0.0.1:9000/hook", dev)).toBeUndefined();
    expect(webhookUrlProblem("http://[::1]:9000/hook", dev)).toBeUndefined();
    expect(webhookUrlProblem("http://example.com/hook", dev)).toBeDefined();
    expect(webhookUrlProblem("http://10.0.0.1/hook", dev)).toBeDefined();
    expect(webhookUrlProblem("https://169.254.169.254/", dev)).toBeDefined();
  });
});
