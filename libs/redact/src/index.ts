/**
 * @custody/redact: removing personal-data fields from webhook payloads, with a salted hash
 * commitment per removed field so the producer can later prove exactly what was removed, and the
 * canonical bytes of the "redacted" custody hop. Pure TypeScript with no I/O and injected
 * randomness, so the same code runs in the delivery pipeline and in the browser verifier.
 *
 * Byte formats are specified in commitment.ts (the commitment) and hop.ts (the hop bytes).
 */
export { RedactionError, RedactionErrorCodes } from "./errors.js";
export type { RedactionErrorCode } from "./errors.js";

export { canonicalJson, MAX_JSON_DEPTH } from "./json.js";
export type { JsonArray, JsonObject, JsonPrimitive, JsonValue } from "./json.js";

export { formatPointer, lookupPointer, MAX_POINTER_DEPTH, MAX_POINTER_LENGTH, parsePointer } from "./pointer.js";
export type { Lookup } from "./pointer.js";

export { COMMITMENT_DOMAIN, commitmentPreimage, computeCommitment, SALT_SIZE } from "./commitment.js";
export type { RemovedField } from "./commitment.js";

export { redact, removePaths } from "./redact.js";
export type { DeliveryShape, RandomSource, RedactionResult, RedactOptions } from "./redact.js";

export { verifyRedaction, verifyRemovedField } from "./verify.js";
export type { RedactionClaim } from "./verify.js";

export { REDACTION_HOP_VERSION, redactionHopBytes } from "./hop.js";

export { compareAcknowledgement, matchesSubscription, requiredAcknowledgements } from "./acknowledgements.js";
export type { EventTypeFields } from "./acknowledgements.js";
