/** `/v1/tokens`: minting, listing and revoking scoped tokens (admin tokens only), each declared once. */
import { z } from "@hono/zod-openapi";
import type { Env } from "../../shared/env.ts";
import { fail, ok } from "../../shared/errors.ts";
import { errorResponse, jsonResponse } from "../../shared/schemas/common.ts";
import {
  MintedToken,
  type MintInput,
  MintRequest,
  Revoked,
  TokenList,
  TokenListQuery,
} from "../../shared/schemas/tokens.ts";
import { declareFor } from "../declare/declare-for.ts";
import { routesOf } from "../declare/routes.ts";
import { keyRing, signToken } from "./codec.ts";
import { registryOf, revocations, tokenNow } from "./verify.ts";

const adminOnly = declareFor({
  adminOnly: true,
  tags: ["Access tokens"],
  params: { id: z.string().openapi({ description: "The id `POST /v1/tokens` returned" }) },
  errors: { 403: errorResponse("Not an admin token (a scoped token cannot manage tokens)") },
  rpc: false,
});

/** Records a new token (never its text) in the registry, which gives its id, then signs it. */
async function mint(env: Env, input: MintInput) {
  const ring = await keyRing(env.TOKEN_SIGNING_KEYS);
  if (!ring) {
    return fail("not_configured", "set TOKEN_SIGNING_KEYS to mint scoped tokens", {
      field: "TOKEN_SIGNING_KEYS",
    });
  }
  const expiresAt = tokenNow() + input.ttlMs;
  const rateLimit = input.rateLimit ? { rateLimit: input.rateLimit } : {};
  const id = await registryOf(env).record({
    label: input.label ?? null,
    scopes: input.scopes,
    expiresAt,
    ...rateLimit,
  });
  const token = await signToken(ring, {
    id,
    scopes: input.scopes,
    exp: expiresAt,
    ...(input.rateLimit ? { rl: input.rateLimit } : {}),
  });
  return ok({ id, token, expiresAt });
}

/** Revokes in the registry and in this isolate's cache of revocations at once. */
async function revoke(env: Env, id: string) {
  const result = await registryOf(env).revoke(id, tokenNow());
  if (result.ok) revocations(env).add(id);
  return result;
}

/** The token operations, mounted at `/v1/tokens` (HTTP only). */
export const tokenOperations = {
  mint: adminOnly("mintToken", "POST /", {
    summary: "Mint a scoped, expiring token",
    description:
      "The token's scopes, expiry and rate limit travel inside it, signed with the first key of `TOKEN_SIGNING_KEYS`. " +
      "`400 not_configured` (`details.field` = `TOKEN_SIGNING_KEYS`) when no signing key is set.",
    body: MintRequest,
    responses: { 201: jsonResponse(MintedToken, "Minted; the text is shown only here") },
    call: (env, { body }) => mint(env, body),
  }),

  list: adminOnly("listTokens", "GET /", {
    summary: "List live scoped tokens (never their text)",
    query: TokenListQuery,
    responses: { 200: jsonResponse(TokenList, "A page of live tokens, in id order") },
    call: async (env, { query }) =>
      ok(await registryOf(env).list(query.limit, query.cursor || undefined, tokenNow())),
  }),

  revoke: adminOnly("revokeToken", "DELETE /{id}", {
    summary: "Revoke a scoped token (refused everywhere within 10 s)",
    responses: {
      200: jsonResponse(Revoked, "Revoked (also when it already was, or has expired)"),
      404: errorResponse("No token with this id was minted"),
    },
    call: (env, { params }) => revoke(env, params.id),
  }),
};

/** The token routes, mounted at `/v1/tokens`. */
export const tokenRoutes = routesOf(tokenOperations);
