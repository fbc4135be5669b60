/**
 * One transport for every client: a capability's calls are declared once as a table of
 * {@link ClientCall}s (the method and path of the HTTP route, the arguments of the RPC method),
 * and {@link callsOver} turns that table into the capability's API over either transport: HTTP
 * ({@link httpTransport}) or a service binding to the `SwitchyardRpc` entrypoint
 * ({@link bindingTransport}).
 *
 * @example
 * const LOCK_CALLS = { info: { http: "GET /v1/locks/{name}", args: ["name"] } } satisfies CallTable;
 * const locks = callsOver<{ info(name: string): Promise<Result<LockInfo>> }>(httpTransport(http), "locks", LOCK_CALLS);
 */
import type { Result } from "../errors.ts";
import type { HttpTransport } from "./http.ts";

/**
 * One operation as a client calls it: `http` is the route (`"POST /v1/locks/{name}/acquire"`),
 * `args` the RPC method's arguments in order: path parameters by name, then `body`, `query`
 * and `headers`, as the Worker declares the operation (in its `operations.ts` table).
 */
export interface ClientCall {
  http: string;
  args: readonly string[];
  /** Safe to send twice over HTTP (see `RequestOptions.idempotent`); by default GET, PUT, DELETE. */
  idempotent?: boolean;
  /** The request headers the `headers` argument stands for. */
  headers?: (value: never) => Record<string, string>;
  /** The value an HTTP answer stands for, where the body wraps it. */
  fromHttp?: (body: never) => unknown;
}

/** A capability's calls, keyed by method name. */
export type CallTable = Readonly<Record<string, ClientCall>>;

/** How a client reaches Switchyard: every capability's calls go through this one method. */
export interface Transport {
  call<T>(capability: string, method: string, call: ClientCall, args: readonly unknown[]): Promise<Result<T>>;
}

/** `?a=1&b=x` from the defined fields of `input` ("" when none). */
export function queryString(input: object = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(input)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Every call as an HTTP request on `http`. */
export function httpTransport(http: HttpTransport): Transport {
  return {
    async call<T>(_capability: string, _method: string, call: ClientCall, args: readonly unknown[]) {
      const [verb = "GET", template = "/"] = call.http.split(" ");
      const named: Record<string, unknown> = {};
      call.args.forEach((arg, i) => {
        named[arg] = args[i];
      });
      let path = template.replace(/\{(\w+)\}/g, (_, param: string) =>
        encodeURIComponent(String(named[param])),
      );
      if (named.query !== undefined) path += queryString(named.query as object);
      // A `headers` argument means nothing over HTTP until the table says which headers it stands for.
      if (named.headers !== undefined && !call.headers) throw new TypeError(`${call.http}: no HTTP headers`);
      const headers =
        call.headers && named.headers !== undefined ? call.headers(named.headers as never) : undefined;
      const result = await http.request<T>(verb, path, named.body, {
        ...(headers ? { headers } : {}),
        ...(call.idempotent === undefined ? {} : { idempotent: call.idempotent }),
      });
      return result.ok && call.fromHttp
        ? { ok: true, value: call.fromHttp(result.value as never) as T }
        : result;
    },
  };
}

/**
 * Every call on a service binding to Switchyard's `SwitchyardRpc` entrypoint (a getter per
 * capability answering its RPC target) as the RPC method of the same name: no HTTP, no JSON.
 */ export function bindingTransport(binding: object): Transport {
  return {
    async call<T>(capability: string, method: string, _call: ClientCall, args: readonly unknown[]) {
      const getters = binding as Record<string, () => unknown>;
      if (typeof getters[capability] !== "function")
        throw new TypeError(`the binding has no ${capability}()`);
      type Target = Record<string, ((...a: unknown[]) => Promise<Result<T>>) | undefined>;
      const pending = getters[capability]() as Target | Promise<Target>;
      // An RPC stub's promise pipelines the call (one round trip); a plain promise is awaited first.
      // Called as methods: on a stub, `.call` or `.apply` would be remote properties too.
      const direct = pending as Target;
      if (typeof direct[method] === "function") return direct[method](...args);
      const target = await pending;
      if (typeof target[method] !== "function") throw new TypeError(`${capability}() has no ${method}()`);
      return target[method](...args);
    },
  };
}

/**
 * The API `A` of one capability over `transport`: each method of `calls` sends its arguments
 * as they are. The caller names `A`, the typed face of the calls.
 */
export function callsOver<A>(transport: Transport, capability: string, calls: CallTable): A {
  const api: Record<string, (...args: unknown[]) => Promise<Result<unknown>>> = {};
  for (const [method, call] of Object.entries(calls)) {
    api[method] = (...args) => transport.call(capability, method, call, args);
  }
  return api as A;
}
