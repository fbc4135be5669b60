import { describe, expect, it } from "vitest";
import { webhookUrlProblem } from "../../../durable-objects/logic/webhook-url.ts";
import { LOCAL_ONLY_TARGETS } from "../../fixtures/webhook-urls.ts";

/** Each set of rules, with the URLs it lets through and those it refuses. */
const VERDICTS = [
  {
    rules: "strict",
    options: { allowInsecure: false },
    allows: [
      "https://example.com/hook",
      "https://8.8.8.8/hook",
      "https://[2001:4860:4860::8888]/hook",
      "https://[2002:808:808::1]/hook",
      "https://hooks.example.com:8443/a?b=c",
    ],
    refuses: [
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
      ...LOCAL_ONLY_TARGETS,
    ],
  },
  {
    // Loopback over http, and nothing else new: only literal loopback addresses pass.
    rules: "ALLOW_INSECURE_WEBHOOKS",
    options: { allowInsecure: true },
    allows: ["http://127.0.0.1:9000/hook", "http://[::1]:9000/hook"],
    refuses: [
      "http://localhost:9000/hook",
      "http://x.localhost/",
      "http://vm:28443/hook",
      "http://[::ffff:0:127.0.0.1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://[64:ff9b:1::7f00:1]/",
      "http://[fec0::1]/",
      "http://example.com/hook",
      "http://10.0.0.1/hook",
      "https://169.254.169.254/",
    ],
  },
];

describe.each(VERDICTS)("webhook URL rules: $rules", ({ options, allows, refuses }) => {
  it.each(allows)("accepts %s", (url) => {
    expect(webhookUrlProblem(url, options)).toBeUndefined();
  });

  it.each(refuses)("refuses %s", (url) => {
    expect(webhookUrlProblem(url, options)).toBeDefined();
  });
});
