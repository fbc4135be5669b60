/**
 * Node-side set-up of the `db` test project: a real primary and two streaming replicas on free
 * ports, handed to the Worker as Hyperdrive bindings (see vitest.config.mts), plus a small HTTP
 * control server through which tests running in workerd stop, start and rebuild the nodes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { TestProject } from "vitest/node";
import { type PgCluster, rejoinAsReplica, startCluster } from "../../scripts/lib/postgres-cluster.ts";

/** What the set-up hands to the project's configuration and tests. */
export interface DbTestCluster {
  /** Hyperdrive binding name → connection string. */
  hyperdrives: Record<string, string>;
  /** The `DB_NODES` and `DB_HA` variables. */
  vars: { DB_NODES: string; DB_HA: string };
  /** Base URL of the control server. */
  control: string;
}

declare module "vitest" {
  interface ProvidedContext {
    dbCluster: DbTestCluster;
  }
}

/** K for the tests: the third failed check of the primary fails over. */
export const FAILURE_THRESHOLD = 3;

function controller(cluster: PgCluster) {
  const byName = (name: string | undefined) => cluster.nodes.find((n) => n.name === name);
  return async (req: IncomingMessage, res: ServerResponse) => {
    // POST /nodes/<name>/<stop|crash|start|rejoin|refuse-promotion|allow-promotion>[?primary=<name>]
    const url = new URL(req.url ?? "/", "http://control");
    const [, kind, name, action] = url.pathname.split("/");
    const node = byName(name);
    try {
      if (req.method !== "POST" || kind !== "nodes" || !node) throw new Error(`bad request ${url.pathname}`);
      if (action === "stop") await node.stop("fast");
      else if (action === "crash") await node.stop("immediate");
      else if (action === "start") await node.start();
      else if (action === "refuse-promotion") await node.refusePromotion(true);
      else if (action === "allow-promotion") await node.refusePromotion(false);
      else if (action === "rejoin") {
        const primary = byName(url.searchParams.get("primary") ?? undefined);
        if (!primary) throw new Error("rejoin needs ?primary=<name>");
        await rejoinAsReplica(node, primary);
      } else throw new Error(`unknown action ${action}`);
      res.writeHead(204).end();
    } catch (err) {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(err));
    }
  };
}

export default async function setup(project: TestProject) {
  const cluster = await startCluster(["pg-1", "pg-2", "pg-3"]);
  const server = createServer(controller(cluster));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const [primary, replica, second] = cluster.nodes;
  // How the other nodes stream from a node once it is promoted.
  const replication = (port = 0) => `host=127.0.0.1 port=${port} user=postgres`;
  project.provide("dbCluster", {
    hyperdrives: { DB_PG1: primary?.url ?? "", DB_PG2: replica?.url ?? "", DB_PG3: second?.url ?? "" },
    vars: {
      DB_NODES: JSON.stringify([
        {
          name: "pg-1",
          region: "weur",
          binding: "DB_PG1",
          role: "primary",
          replication: replication(primary?.port),
        },
        {
          name: "pg-2",
          region: "enam",
          binding: "DB_PG2",
          role: "replica",
          replication: replication(replica?.port),
        },
        {
          name: "pg-3",
          region: "apac",
          binding: "DB_PG3",
          role: "replica",
          replication: replication(second?.port),
        },
      ]),
      // Checks are driven by runDurableObjectAlarm; a long interval keeps real alarms out of the way.
      DB_HA: JSON.stringify({
        checkIntervalMs: 60_000,
        checkTimeoutMs: 2_000,
        failureThreshold: FAILURE_THRESHOLD,
        topologyCacheMs: 0,
        switchoverTimeoutMs: 5_000,
      }),
    },
    control: `http://127.0.0.1:${port}`,
  });
  return async () => {
    await new Promise((resolve) => server.close(resolve));
    await cluster.destroy();
  };
}
