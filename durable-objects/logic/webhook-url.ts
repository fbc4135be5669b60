/**
 * Which webhook targets a topic accepts: `https` only, and never a literal private, loopback,
 * link-local or otherwise non-public address, nor a name that only a local resolver knows: a
 * single label (`https://vm/`, often an /etc/hosts entry), `localhost`, or a name under
 * `.localhost`, `.local`, `.internal`, `.home.arpa` or `.lan` (API 1.2). With `allowInsecure`
 * (local development and tests) literal loopback addresses are allowed too, over `http` or
 * `https`. Other names that resolve to private addresses cannot be checked here (a Worker has no
 * DNS lookup); Cloudflare's edge does not route Worker subrequests into private networks. The
 * topic applies these rules at creation and again before every attempt.
 */

export interface WebhookUrlOptions {
  /** `ALLOW_INSECURE_WEBHOOKS=true`: also allow loopback targets, over http. */
  allowInsecure: boolean;
}

type Verdict = "public" | "loopback" | "blocked";

/** IPv4 ranges that are not public (RFC 6890): [first octets as a 32-bit prefix, prefix length]. */
const BLOCKED_V4: ReadonlyArray<readonly [number, number]> = [
  [0x00000000, 8], // "this network"
  [0x0a000000, 8], // private
  [0x64400000, 10], // carrier-grade NAT
  [0xa9fe0000, 16], // link-local
  [0xac100000, 12], // private
  [0xc0000000, 24], // IETF protocol assignments
  [0xc0000200, 24], // documentation (TEST-NET-1)
  [0xc0a80000, 16], // private
  [0xc6120000, 15], // benchmarking
  [0xc6336400, 24], // documentation (TEST-NET-2)
  [0xcb007100, 24], // documentation (TEST-NET-3)
  [0xe0000000, 4], // multicast
  [0xf0000000, 4], // reserved, broadcast
];

function parseV4(host: string): number | undefined {
  const parts = host.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    value = value * 256 + Number(p);
  }
  return value;
}

function classifyV4(addr: number): Verdict {
  if (addr >>> 24 === 127) return "loopback";
  for (const [prefix, bits] of BLOCKED_V4) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((addr & mask) >>> 0 === prefix) return "blocked";
  }
  return "public";
}

/** The eight 16-bit groups of an IPv6 literal (as the URL parser writes it, without brackets). */
function parseV6(host: string): number[] | undefined {
  const halves = host.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)));
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const all = [...head, ...Array<number>(fill).fill(0), ...tail];
  return all.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? all : undefined;
}

function classifyV6(g: number[]): Verdict {
  const [a = 0, , , , e = 0, f = 0, x = 0, y = 0] = g;
  const zeroTo = (n: number) => g.slice(0, n).every((v) => v === 0);
  if (zeroTo(7) && y === 1) return "loopback";
  if (zeroTo(8)) return "blocked";
  // ::ffff:0:0/96 (IPv4-mapped) and ::ffff:0:0:0/96 (IPv4-translated) are never a public
  // receiver's address, and runtimes differ on where they connect: refused whatever they embed.
  if (zeroTo(5) && f === 0xffff) return "blocked";
  if (zeroTo(4) && e === 0xffff && f === 0) return "blocked";
  if (a === 0x64 && g[1] === 0xff9b && g[2] === 1) return "blocked"; // local-use NAT64 (RFC 8215)
  if ((a & 0xffc0) === 0xfec0) return "blocked"; // site-local (deprecated, still routed locally)
  // NAT64 (64:ff9b::a.b.c.d) carries an IPv4 address.
  const embedded = (x << 16) | y;
  if (a === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((v) => v === 0)) return classifyV4(embedded >>> 0);
  // IPv4-compatible (::a.b.c.d, deprecated) and 6to4 (2002:a.b.c.d::/48) too.
  if (zeroTo(6)) return classifyV4(embedded >>> 0);
  if (a === 0x2002) return classifyV4((((g[1] ?? 0) << 16) | (g[2] ?? 0)) >>> 0);
  if (a === 0x2001 && g[1] === 0) return "blocked"; // Teredo: tunnels to any IPv4 address
  if (a === 0x2001 && g[1] === 0x0db8) return "blocked"; // documentation
  if ((a & 0xfe00) === 0xfc00) return "blocked"; // unique local
  if ((a & 0xffc0) === 0xfe80) return "blocked"; // link-local
  if ((a & 0xff00) === 0xff00) return "blocked"; // multicast
  return "public";
}

/** Names only a local resolver answers: special-use (RFC 6761, 6762, 8375) and common private suffixes. */
const LOCAL_SUFFIXES = ["localhost", "local", "internal", "home.arpa", "lan"];

function classifyHost(hostname: string): Verdict {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[") && host.endsWith("]")) {
    const groups = parseV6(host.slice(1, -1));
    return groups ? classifyV6(groups) : "blocked";
  }
  const v4 = parseV4(host);
  if (v4 !== undefined) return classifyV4(v4);
  if (!host.includes(".")) return "blocked";
  return LOCAL_SUFFIXES.some((s) => host === s || host.endsWith(`.${s}`)) ? "blocked" : "public";
}

/**
 * Why a webhook URL is refused, or undefined when it is acceptable.
 * @example webhookUrlProblem("http://127.0.0.1:9000/hook", { allowInsecure: true }) // undefined
 */
export function webhookUrlProblem(raw: string, options: WebhookUrlOptions): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not a valid absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "the URL must use https";
  const verdict = classifyHost(url.hostname);
  if (verdict === "blocked") return "the URL points at a private, link-local, reserved or local-only host";
  if (verdict === "loopback") {
    return options.allowInsecure ? undefined : "the URL points at a loopback address";
  }
  if (url.protocol !== "https:") return "the URL must use https";
  return undefined;
}
