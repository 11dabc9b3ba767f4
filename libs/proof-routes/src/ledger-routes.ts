import { z } from "zod";
import { AppError } from "@custody/errors";
import { bearerSecurity, errorResponses, principalOf, requireScope, type HttpApp } from "@custody/http";
import { listPlatformKeys } from "@custody/keys";
import { consistencyProofBetween, inclusionProofAt } from "@custody/ledger-store";
import { fromHex, toHex } from "@custody/encoding";
import { formatTlogProof } from "@custody/note";
import type { ProofsContext } from "./context.js";
import { entryAt, latestCheckpoint, leafIndexOfHash } from "./ledger-reads.js";

const hex32 = z.string().regex(/^[0-9a-fA-F]{64}$/, "64 hex characters");
const size = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const tags = ["ledger proofs"];

/**
 * The ledger's public face, like a CT log's: checkpoints, keys, inclusion and consistency proofs
 * reveal only hashes and need no key. Entries and tlog-proof bundles belong to a tenant.
 */
export function registerLedgerRoutes(app: HttpApp, ctx: ProofsContext): void {
  app.get(
    "/api/v2/proofs/checkpoint",
    {
      schema: {
        tags,
        summary: "The latest signed checkpoint",
        description: "A C2SP tlog-checkpoint signed note (text/plain): origin, tree size, base64 root, signature lines.",
        response: { 200: z.string(), 404: errorResponses(404)[404] },
      },
    },
    async (_request, reply) => {
      const cp = await latestCheckpoint(ctx.db);
      return reply.type("text/plain; charset=utf-8").send(cp.note);
    },
  );

  app.get(
    "/api/v2/proofs/keys",
    {
      schema: {
        tags,
        summary: "Every platform public key ever used",
        description: "Verifier keys in the C2SP `name+hexid+base64` format. Retired keys stay listed so old proofs still verify.",
        response: {
          200: z.object({
            keys: z.array(z.object({ keyId: z.string(), vkey: z.string(), validFrom: z.string(), validTo: z.string().nullable() })),
          }),
        },
      },
    },
    async () => ({
      keys: (await listPlatformKeys(ctx.db)).map((k) => ({ keyId: k.keyId, vkey: k.vkey, validFrom: k.validFrom.toISOString(), validTo: k.validTo?.toISOString() ?? null })),
    }),
  );

  app.get(
    "/api/v2/proofs/inclusion",
    {
      schema: {
        tags,
        summary: "Inclusion proof of a leaf",
        description: "RFC 9162 inclusion proof of the leaf at `leafIndex` (or with `leafHash`) in the tree of `treeSize` leaves (default: the latest checkpoint's).",
        querystring: z.object({ leafIndex: size.optional(), leafHash: hex32.optional(), treeSize: size.optional() }),
        response: { 200: z.object({ leafIndex: z.number(), treeSize: z.number(), leafHash: z.string(), proof: z.array(z.string()) }), ...errorResponses(404, 422) },
      },
    },
    async (request) => {
      const { leafIndex, leafHash, treeSize } = request.query;
      if ((leafIndex === undefined) === (leafHash === undefined)) {
        throw new AppError("VALIDATION_FAILED", "give exactly one of leafIndex and leafHash", { field: "query.leafIndex" });
      }
      const treeSizeUsed = treeSize ?? (await latestCheckpoint(ctx.db)).treeSize;
      const index = leafIndex ?? (await leafIndexOfHash(ctx.db, fromHex(leafHash!.toLowerCase())));
      const entry = await entryAt(ctx.db, index);
      const proof = await inclusionProofAt(ctx.db, index, treeSizeUsed);
      return { leafIndex: index, treeSize: treeSizeUsed, leafHash: toHex(entry.leafHash), proof: proof.map(toHex) };
    },
  );

  app.get(
    "/api/v2/proofs/consistency",
    {
      schema: {
        tags,
        summary: "Consistency proof between two tree sizes",
        description: "RFC 9162 consistency proof that the tree of `second` leaves extends the tree of `first` leaves (1 ≤ first ≤ second).",
        querystring: z.object({ first: size, second: size }),
        response: { 200: z.object({ first: z.number(), second: z.number(), proof: z.array(z.string()) }), ...errorResponses(404) },
      },
    },
    async (request) => {
      const { first, second } = request.query;
      return { first, second, proof: (await consistencyProofBetween(ctx.db, first, second)).map(toHex) };
    },
  );

  app.get(
    "/api/v2/proofs/entries/:leafIndex",
    {
      preHandler: requireScope(ctx.db, "read"),
      schema: {
        tags,
        security: bearerSecurity,
        summary: "One ledger entry of your tenant",
        description: "The entry's exact bytes (base64) and leaf hash. Another tenant's entry answers 404.",
        params: z.object({ leafIndex: size }),
        response: { 200: z.object({ leafIndex: z.number(), kind: z.string(), entry: z.string(), leafHash: z.string() }), ...errorResponses(404) },
      },
    },
    async (request) => {
      const entry = await entryAt(ctx.db, request.params.leafIndex, principalOf(request).tenantId);
      return { leafIndex: request.params.leafIndex, kind: entry.kind, entry: Buffer.from(entry.body).toString("base64"), leafHash: toHex(entry.leafHash) };
    },
  );

  app.get(
    "/api/v2/proofs/entries/:leafIndex/tlog-proof",
    {
      preHandler: requireScope(ctx.db, "read"),
      schema: {
        tags,
        security: bearerSecurity,
        summary: "A C2SP tlog-proof@v1 bundle for one of your entries",
        description: "The inclusion proof of the entry under the latest checkpoint, with that checkpoint, in the C2SP `tlog-proof@v1` text format (text/plain).",
        params: z.object({ leafIndex: size }),
        response: { 200: z.string(), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { leafIndex } = request.params;
      await entryAt(ctx.db, leafIndex, principalOf(request).tenantId);
      const cp = await latestCheckpoint(ctx.db);
      if (leafIndex >= cp.treeSize) throw new AppError("NOT_FOUND", `entry ${leafIndex} is not yet covered by a checkpoint (size ${cp.treeSize}); try again shortly`);
      const proof = await inclusionProofAt(ctx.db, leafIndex, cp.treeSize);
      return reply.type("text/plain; charset=utf-8").send(formatTlogProof({ index: leafIndex, proof, checkpointNote: cp.note }));
    },
  );
}
