/**
 * The token registry prunes the rows of expired tokens (revoked ones too) from its alarm, by its
 * own clock, at most 1,000 a ring and re-armed at once while more are due: live rows stay, the
 * listing and the revoked list do not change, and revoking a pruned id still answers `200` (the id
 * proves it was minted here) while an id never minted answers `404`, across a restart.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  KEPT_AFTER_EXPIRY_MS,
  PRUNE_STEP,
  type TokenRegistryObject,
} from "../../../durable-objects/token-registry/object.ts";
import { PRUNE_STEP_SQL } from "../../../durable-objects/token-registry/store.ts";
import { ManualClock } from "../../../shared/resilience/clock.ts";
import { toBase64Url } from "../../../workers/tokens/codec.ts";
import { unique } from "../helpers.ts";

const EXPIRED = 2_500;
const LIVE = 5;
const DAY = 86_400_000;
const scopes = [{ resource: "locks:a", actions: ["read" as const] }];

type Registry = ReturnType<typeof env.TOKENS.getByName>;

const rows = (registry: Registry) =>
  runInDurableObject(
    registry,
    (_o, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM tokens").one().n,
  );
const alarmOf = (registry: Registry) => runInDurableObject(registry, (_o, state) => state.storage.getAlarm());

/** Rows read by one pruning step of `limit` rows due by `before` (run, then rolled back), and its plan. */
const stepCost = (registry: Registry, before: number, limit: number) =>
  runInDurableObject(registry, (_o, state) => {
    const sql = state.storage.sql;
    const plan = sql
      .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${PRUNE_STEP_SQL}`, before, limit)
      .toArray()
      .map((r) => r.detail)
      .join("; ");
    const cost = { deleted: 0, rowsRead: 0 };
    try {
      state.storage.transactionSync(() => {
        const step = sql.exec(PRUNE_STEP_SQL, before, limit);
        step.toArray();
        cost.rowsRead = step.rowsRead;
        cost.deleted = sql.exec<{ n: number }>("SELECT changes() AS n").one().n;
        throw new Error("roll back");
      });
    } catch {
      // Rolled back on purpose: the step is only measured here.
    }
    return { ...cost, plan };
  });

describe("the token registry's pruning", () => {
  it("drops expired rows in steps of 1,000 by its clock, keeping live ones and every answer", async () => {
    const registry = env.TOKENS.getByName(unique("registry"));
    const clock = new ManualClock(Date.now());
    const t0 = clock.now();
    const { expired, live } = await runInDurableObject(registry, async (o: TokenRegistryObject) => {
      o.clock = clock;
      const expired: string[] = [];
      for (let i = 0; i < EXPIRED; i++) {
        expired.push(await o.record({ label: null, scopes, expiresAt: t0 + 1_000 + i }));
      }
      const live: string[] = [];
      for (let i = 0; i < LIVE; i++) {
        live.push(await o.record({ label: `live ${i}`, scopes, expiresAt: t0 + DAY }));
      }
      return { expired, live };
    });
    expect(await alarmOf(registry)).toBe(t0 + 1_000 + KEPT_AFTER_EXPIRY_MS);
    // Revoked rows go once expired too: an expired token is refused before its revocation is looked at.
    for (const id of [expired[0], live[0]] as string[]) {
      expect(await registry.revoke(id, t0)).toEqual({ ok: true, value: { revoked: true } });
    }
    const later = t0 + 7_200_000;
    const listed = await registry.list(1000, undefined, later);
    expect(listed.tokens.map((t) => t.id).sort()).toEqual(live.slice(1).sort());
    expect(await registry.revokedIds(later)).toEqual([live[0]]);

    // A step reads what it deletes, through the expiry index, however many rows are kept.
    const due = t0 + 1_000 + EXPIRED;
    const cost = await stepCost(registry, due, 10);
    expect(cost.plan).toContain("tokens_expiry");
    expect(cost.deleted).toBe(10);
    // A few reads per row deleted (index entries and the row); a scan would read all 2,505.
    expect(cost.rowsRead).toBeLessThan(100);

    // On the registry's clock every expired token is past its kept time; the live ones are not.
    clock.advance(1_000 + EXPIRED + KEPT_AFTER_EXPIRY_MS);
    const left = [EXPIRED + LIVE - PRUNE_STEP, EXPIRED + LIVE - 2 * PRUNE_STEP, LIVE];
    for (const [ring, count] of left.entries()) {
      expect(await runDurableObjectAlarm(registry)).toBe(true);
      expect(await rows(registry), `after ring ${ring + 1}`).toBe(count);
      // Re-armed at once while a full step was pruned, else at the next expiry's kept time.
      expect(await alarmOf(registry)).toBe(count === LIVE ? t0 + DAY + KEPT_AFTER_EXPIRY_MS : clock.now());
    }

    await evictDurableObject(registry);
    expect(await registry.list(1000, undefined, later)).toEqual(listed);
    expect(await registry.revokedIds(later)).toEqual([live[0]]);
    for (const id of [expired[0], expired[1], expired[EXPIRED - 1]] as string[]) {
      expect(await registry.revoke(id, clock.now())).toEqual({ ok: true, value: { revoked: true } });
    }
    const forged = `tk_${toBase64Url(crypto.getRandomValues(new Uint8Array(24)))}`;
    for (const id of [forged, "tk_never"]) {
      expect(await registry.revoke(id, clock.now())).toMatchObject({
        ok: false,
        error: { code: "not_found" },
      });
    }
  });

  it("keeps the ids minted before ids carried a proof, and aims its alarm at rows from before", async () => {
    const registry = env.TOKENS.getByName(unique("registry"));
    // Its alarm due in a minute (workerd moves an alarm set in the past to the present).
    const expiresAt = Date.now() - KEPT_AFTER_EXPIRY_MS + 60_000;
    // The registry as the schema's first version left it: one row of an id without a proof, no alarm.
    await runInDurableObject(registry, (_o, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP INDEX tokens_expiry; DROP TABLE registry_meta; DROP TABLE unproved_ids");
      sql.exec("UPDATE _schema SET version = 1");
      sql.exec(
        "INSERT INTO tokens (id, label, scopes, expires_at) VALUES ('tk_old', NULL, '[]', ?)",
        expiresAt,
      );
      return state.storage.deleteAlarm();
    });
    await evictDurableObject(registry);
    expect((await registry.list(10, undefined, 0)).tokens.map((t) => t.id)).toEqual(["tk_old"]);
    expect(await alarmOf(registry)).toBe(expiresAt + KEPT_AFTER_EXPIRY_MS);
    expect(await runDurableObjectAlarm(registry)).toBe(true);
    expect(await rows(registry)).toBe(0);
    expect(await registry.revoke("tk_old", Date.now())).toEqual({ ok: true, value: { revoked: true } });
    expect(await registry.revoke("tk_older", Date.now())).toMatchObject({ ok: false });
  });
});
