/** Types `env` from `cloudflare:workers` in tests as the Worker's own Env. */
type WorkerEnv = import("../shared/env.ts").Env;

declare namespace Cloudflare {
  interface Env extends WorkerEnv {}
}
