/**
 * Schemas of `/v1/tokens`: minting scoped tokens, listing and revoking them (API.md, "Access
 * tokens"). A scope's rules (resource syntax, the actions its capability has routes for) are
 * checked here, so a bad scope is a `400` naming e.g. `scopes.0.resource` or `scopes.1.actions.2`.
 */
import { z } from "@hono/zod-openapi";
import {
  ACTIONS,
  ACTIONS_BY_CAPABILITY,
  CAPABILITIES,
  type Capability,
  splitResource,
} from "../../workers/http/access.ts";
import { int, NAME_PATTERN, queryCursor, queryIntOr } from "./common.ts";

/** Why a resource string is not `<capability>:<pattern>`, or `null` when it is. */
export function resourceProblem(resource: string): string | null {
  const { capability, pattern } = splitResource(resource);
  if (!resource.includes(":")) return "must be <capability>:<pattern>";
  if (!(CAPABILITIES as readonly string[]).includes(capability)) {
    return `capability must be one of ${CAPABILITIES.join(", ")}`;
  }
  if (pattern === "*") return null;
  if (capability === "db") return "the pattern of a db resource is *";
  const exact = pattern.endsWith("*") ? pattern.slice(0, -1) : pattern;
  return NAME_PATTERN.test(exact)
    ? null
    : "pattern must be a name, a name prefix ending in *, or * (names match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$)";
}

/** One scope: what a token may do on which names. */
export const ScopeSchema = z
  .strictObject({
    resource: z.string().max(256).openapi({
      description: "`<capability>:<pattern>`: a name, a prefix ending in `*`, or `*`",
      example: "queues:tenant-42:*",
    }),
    actions: z
      .array(z.enum(ACTIONS))
      .min(1)
      .max(4)
      .openapi({ example: ["write", "consume"] }),
  })
  .superRefine((scope, ctx) => {
    const problem = resourceProblem(scope.resource);
    if (problem) {
      ctx.addIssue({ code: "custom", path: ["resource"], message: problem });
      return;
    }
    const allowed = ACTIONS_BY_CAPABILITY[splitResource(scope.resource).capability as Capability];
    scope.actions.forEach((action, i) => {
      if (!allowed.includes(action)) {
        ctx.addIssue({
          code: "custom",
          path: ["actions", i],
          message: `no route of this capability takes ${action}; allowed: ${allowed.join(", ")}`,
        });
      } else if (scope.actions.indexOf(action) !== i) {
        ctx.addIssue({ code: "custom", path: ["actions", i], message: "actions must be distinct" });
      }
    });
  })
  .openapi("Scope");

/** A token's own rate limit. */
export const RateLimitSchema = z
  .strictObject({
    requests: int(1, 1_000_000).openapi({ example: 100 }),
    periodMs: int(1000, 86_400_000).openapi({ example: 60_000 }),
  })
  .openapi("TokenRateLimit");

/** `POST /v1/tokens`. */
export const MintRequest = z
  .strictObject({
    scopes: z.array(ScopeSchema).min(1).max(50),
    ttlMs: int(1000, 2_592_000_000).default(3_600_000),
    label: z.string().max(128).optional(),
    rateLimit: RateLimitSchema.optional(),
  })
  .openapi("MintTokenRequest");
export type MintInput = z.infer<typeof MintRequest>;
/** What a caller sends to mint (fields with a default optional). */
export type MintTokenInput = z.input<typeof MintRequest>;

/** A minted token: the text is shown once, here. */
export const MintedToken = z
  .object({
    id: z.string(),
    token: z.string().openapi({ description: "Send as `Authorization: Bearer <token>`" }),
    expiresAt: z.number().int(),
  })
  .openapi("MintedToken");
export type MintedTokenValue = z.infer<typeof MintedToken>;

/** A live token as the listing shows it: never its text. */
export const TokenInfo = z
  .object({
    id: z.string(),
    label: z.string().nullable(),
    scopes: z.array(ScopeSchema),
    expiresAt: z.number().int(),
    rateLimit: RateLimitSchema.optional(),
  })
  .openapi("TokenInfo");
export type TokenInfoValue = z.infer<typeof TokenInfo>;

/** `GET /v1/tokens`. */
export const TokenList = z
  .object({ tokens: z.array(TokenInfo), cursor: z.string().nullable() })
  .openapi("TokenList");
export type TokenListValue = z.infer<typeof TokenList>;

/** `GET /v1/tokens` query. */
export const TokenListQuery = z.object({
  limit: queryIntOr(1, 1000, 100),
  cursor: queryCursor(z.string().max(256)),
});

/** `DELETE /v1/tokens/{id}`. */
export const Revoked = z.object({ revoked: z.literal(true) }).openapi("TokenRevoked");
