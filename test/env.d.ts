/** Types `env` and `exports` from `cloudflare:workers` in tests as the Worker's own. */
type WorkerEnv = import("../shared/env.ts").Env;

declare namespace Cloudflare {
  interface Env extends WorkerEnv {}
  interface GlobalProps {
    mainModule: typeof import("../workers/index.ts");
  }
}
