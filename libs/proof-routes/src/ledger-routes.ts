import { z } from "zod";
import { AppError } from "@custody/errors";
import { bearerSecurity, errorBody, errorResponses, principalOf, requireScope, unavailableResponse, type HttpApp } from "@custody/http";
import { listPlatformKeys } from "@custody/keys";
import { consistencyProofBetween, inclusionProofAt } from "@custody/ledger-store";
import { fromHex, toHex } from "@custody/encoding";
import { formatTlogProof } from "@custody/note";
import type { ProofsContext } from "./context.js";
import { entryAt } from "./ledger-reads.js";
import { LedgerSnapshot, REPLICA_RETRY_AFTER_SECONDS } from "./ledger-snapshot.js";

const hex32 = z.string().regex(/^[0-9a-fA-F]{64}$/, "64 hex characters");
const size = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const tags = ["ledger proofs"];

/** The 503 of the routes that may read from the replica (DATABASE_READ_URL). */
const replicaUnavailable = errorBody.describe(
  `${unavailableResponse.description ?? ""} REPLICA_BEHIND: this answer is read from a replica that has not replayed the tree size, leaf or checkpoint asked for yet (the primary has it), or that cancelled the read to replay WAL; retry after \`Retry-After\` (${REPLICA_RETRY_AFTER_SECONDS} s).`,
);

function beyondCommitted(field: string, size: number, committed: number): AppError {
  return new AppError("NOT_FOUND", `${field} ${size} is beyond the ledger's committed size ${committed}`, { field });
}

function noEntry(leafIndex: number): AppError {
  return new AppError("NOT_FOUND", `no ledger entry at leaf index ${leafIndex}`);
}

/**
 * The ledger's public face, like a CT log's: checkpoints, keys, inclusion and consistency proofs
 * reveal only hashes and need no key. Entries and tlog-proof bundles belong to a tenant.
 *
 * Every route but the keys reads through `LedgerSnapshot`, from the replica when there is one: each
 * names the tree size, leaf or checkpoint it answers for, so a replica that has not reached it yet
 * can say so instead of answering for another size. The keys stay on the primary: the list is small,
 * and it must already hold a key that a checkpoint from the primary (the API, the pipeline) may be
 * signed with. Authentication (`requireScope`) reads the primary too.
 */
export function registerLedgerRoutes(app: HttpApp, ctx: ProofsContext): void {
  app.get(
    "/api/v2/proofs/checkpoint",
    {
      schema: {
        tags,
        summary: "The latest signed checkpoint",
        description: "A C2SP tlog-checkpoint signed note (text/plain): origin, tree size, base64 root, signature lines.",
        response: { 200: z.string(), 404: errorResponses(404)[404], 503: replicaUnavailable },
      },
    },
    async (_request, reply) => {
      const cp = await LedgerSnapshot.read(ctx, (s) => s.latestCheckpoint());
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
        response: { 200: z.object({ leafIndex: z.number(), treeSize: z.number(), leafHash: z.string(), proof: z.array(z.string()) }), ...errorResponses(404, 422), 503: replicaUnavailable },
      },
    },
    async (request) => {
      const { leafIndex, leafHash, treeSize } = request.query;
      if ((leafIndex === undefined) === (leafHash === undefined)) {
        throw new AppError("VALIDATION_FAILED", "give exactly one of leafIndex and leafHash", { field: "query.leafIndex" });
      }
      return LedgerSnapshot.read(ctx, async (s) => {
        const index = leafIndex ?? (await s.leafIndexOfHash(fromHex(leafHash!.toLowerCase())));
        const belowSize = (n: number) => new AppError("VALIDATION_FAILED", `leafIndex must be below treeSize ${n}`, { field: "leafIndex" });
        let treeSizeUsed: number;
        if (treeSize === undefined) {
          treeSizeUsed = (await s.checkpointCovering(index, (cp) => belowSize(cp.treeSize))).treeSize;
        } else {
          await s.requireTree(treeSize, (committed) => beyondCommitted("treeSize", treeSize, committed));
          if (index >= treeSize) throw belowSize(treeSize);
          treeSizeUsed = treeSize;
        }
        const entry = await entryAt(s.db, index);
        const proof = await inclusionProofAt(s.db, index, treeSizeUsed);
        return { leafIndex: index, treeSize: treeSizeUsed, leafHash: toHex(entry.leafHash), proof: proof.map(toHex) };
      });
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
        response: { 200: z.object({ first: z.number(), second: z.number(), proof: z.array(z.string()) }), ...errorResponses(404), 503: replicaUnavailable },
      },
    },
    async (request) => {
      const { first, second } = request.query;
      const proof = await LedgerSnapshot.read(ctx, async (s) => {
        await s.requireTree(second, (committed) => beyondCommitted("second", second, committed));
        return consistencyProofBetween(s.db, first, second);
      });
      return { first, second, proof: proof.map(toHex) };
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
        response: { 200: z.object({ leafIndex: z.number(), kind: z.string(), entry: z.string(), leafHash: z.string() }), ...errorResponses(404), 503: replicaUnavailable },
      },
    },
    async (request) => {
      const { leafIndex } = request.params;
      const entry = await LedgerSnapshot.read(ctx, async (s) => {
        await s.requireTree(leafIndex + 1, () => noEntry(leafIndex));
        return entryAt(s.db, leafIndex, principalOf(request).tenantId);
      });
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
        response: { 200: z.string(), ...errorResponses(404), 503: replicaUnavailable },
      },
    },
    async (request, reply) => {
      const { leafIndex } = request.params;
      const { cp, proof } = await LedgerSnapshot.read(ctx, async (s) => {
        await s.requireTree(leafIndex + 1, () => noEntry(leafIndex));
        await entryAt(s.db, leafIndex, principalOf(request).tenantId);
        const cp = await s.checkpointCovering(leafIndex, (c) => new AppError("NOT_FOUND", `entry ${leafIndex} is not yet covered by a checkpoint (size ${c.treeSize}); try again shortly`));
        return { cp, proof: await inclusionProofAt(s.db, leafIndex, cp.treeSize) };
      });
      return reply.type("text/plain; charset=utf-8").send(formatTlogProof({ index: leafIndex, proof, checkpointNote: cp.note }));
    },
  );
}
