/** `/v1/tokens`: minting, listing and revoking scoped tokens (admin tokens only). */
import { z } from "@hono/zod-openapi";
import { ApiError, unwrap } from "../../shared/errors.ts";
import { commonErrors, errorResponse, jsonBody, jsonResponse } from "../../shared/schemas/common.ts";
import { MintedToken, MintRequest, Revoked, TokenList, TokenListQuery } from "../../shared/schemas/tokens.ts";
import { operation } from "../http/operation.ts";
import { createRouter } from "../http/router.ts";
import { keyRing, signToken, toBase64Url } from "./codec.ts";
import { registryOf, revocations, tokenNow } from "./verify.ts";

const tags = ["Access tokens"];
const adminErrors = {
  ...commonErrors,
  403: errorResponse("Not an admin token (a scoped token cannot manage tokens)"),
};

const mint = operation(
  { adminOnly: true },
  {
    operationId: "mintToken",
    method: "post",
    path: "/",
    tags,
    summary: "Mint a scoped, expiring token",
    description:
      "The token's scopes, expiry and rate limit travel inside it, signed with the first key of `TOKEN_SIGNING_KEYS`. " +
      "`400 not_configured` (`details.field` = `TOKEN_SIGNING_KEYS`) when no signing key is set.",
    request: { body: jsonBody(MintRequest) },
    responses: { 201: jsonResponse(MintedToken, "Minted; the text is shown only here"), ...adminErrors },
  },
);

const list = operation(
  { adminOnly: true },
  {
    operationId: "listTokens",
    method: "get",
    path: "/",
    tags,
    summary: "List live scoped tokens (never their text)",
    request: { query: TokenListQuery },
    responses: { 200: jsonResponse(TokenList, "A page of live tokens, in id order"), ...adminErrors },
  },
);

const revoke = operation(
  { adminOnly: true },
  {
    operationId: "revokeToken",
    method: "delete",
    path: "/{id}",
    tags,
    summary: "Revoke a scoped token (refused everywhere within 10 s)",
    request: {
      params: z.object({ id: z.string().openapi({ description: "The id `POST /v1/tokens` returned" }) }),
    },
    responses: {
      200: jsonResponse(Revoked, "Revoked (also when it already was, or has expired)"),
      404: errorResponse("No token with this id was minted"),
      ...adminErrors,
    },
  },
);

function newTokenId(): string {
  return `tk_${toBase64Url(crypto.getRandomValues(new Uint8Array(12)))}`;
}

/** The token routes, mounted at `/v1/tokens`. */
export const tokenRoutes = createRouter()
  .openapi(mint, async (c) => {
    const input = c.req.valid("json");
    const ring = await keyRing(c.env.TOKEN_SIGNING_KEYS);
    if (!ring) {
      throw new ApiError("not_configured", "set TOKEN_SIGNING_KEYS to mint scoped tokens", {
        field: "TOKEN_SIGNING_KEYS",
      });
    }
    const id = newTokenId();
    const expiresAt = tokenNow() + input.ttlMs;
    const token = await signToken(ring, {
      id,
      scopes: input.scopes,
      exp: expiresAt,
      ...(input.rateLimit ? { rl: input.rateLimit } : {}),
    });
    await registryOf(c.env).record({
      id,
      label: input.label ?? null,
      scopes: input.scopes,
      expiresAt,
      ...(input.rateLimit ? { rateLimit: input.rateLimit } : {}),
    });
    return c.json({ id, token, expiresAt }, 201);
  })
  .openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(await registryOf(c.env).list(limit, cursor || undefined, tokenNow()), 200);
  })
  .openapi(revoke, async (c) => {
    const { id } = c.req.valid("param");
    const result = unwrap(await registryOf(c.env).revoke(id, tokenNow()));
    revocations(c.env).add(id);
    return c.json(result, 200);
  });
