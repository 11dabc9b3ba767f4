/**
 * A thread that checks checkpoint signatures for the audit (Ed25519 verification is most of a
 * checkpoint's cost, ~1 ms each): the same `verifyCheckpoint` the audit runs on its own thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { verifyCheckpoint, type AuditCheckpoint, type CheckpointVerdict } from "@custody/ledger";
import { parseVerifierKey } from "@custody/note";

export interface VerifyRequest {
  checkpoints: AuditCheckpoint[];
}

export interface VerifyResponse {
  verdicts: CheckpointVerdict[];
}

export interface VerifierSetup {
  vkeys: string[];
  origin: string | undefined;
}

const setup = workerData as VerifierSetup;
const keys = setup.vkeys.map((k) => parseVerifierKey(k));
parentPort!.on("message", (request: VerifyRequest) => {
  const response: VerifyResponse = { verdicts: request.checkpoints.map((cp) => verifyCheckpoint(cp, keys, setup.origin)) };
  parentPort!.postMessage(response);
});
