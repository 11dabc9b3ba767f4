/**
 * @custody/proof-routes: the proof routes — checkpoints, proofs and entries of the ledger, platform
 * keys, chain-of-custody documents, recall and replay — as route plugins. The proof service serves
 * them on its own (its public routes scale separately); the API serves them too, so every
 * `/api/v2/...` route answers on one base URL.
 */
import type { HttpApp } from "@custody/http";
import type { ProofsContext } from "./context.js";
import { registerCustodyRoutes } from "./custody-routes.js";
import { registerLedgerRoutes } from "./ledger-routes.js";

export type { ProofsContext } from "./context.js";

export function registerProofRoutes(app: HttpApp, ctx: ProofsContext): void {
  registerLedgerRoutes(app, ctx);
  registerCustodyRoutes(app, ctx);
}
