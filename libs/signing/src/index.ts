/**
 * @custody/signing: webhook signing secrets, Standard Webhooks signatures, the `x-custody-signature`
 * header, delivery header sets and the canonical signed-headers bytes of a custody hop. Pure
 * TypeScript with no I/O and no node: imports, so the delivery worker, the test receiver and the
 * browser verifier run the same code. Randomness and the clock are injected.
 */
export { SigningError, SigningErrorCodes } from "./errors.js";
export type { SigningErrorCode } from "./errors.js";

export {
  defaultRandom,
  generateSecret,
  KEY_ID_PREFIX,
  MAX_SECRET_BYTES,
  MIN_SECRET_BYTES,
  parseSecret,
  SECRET_BYTES,
  SECRET_PREFIX,
  secretKeyId,
} from "./secret.js";
export type { RandomSource } from "./secret.js";

export { DEFAULT_TOLERANCE_SECONDS, standardSignature, standardWebhookHeaders, verifyStandardSignature } from "./standard.js";
export type { StandardWebhookHeaders, VerifiedStandardSignature } from "./standard.js";

export { CUSTODY_SIGNATURE_PREFIX, custodySignature, verifyCustodySignature } from "./custody.js";

export { buildDeliveryHeaders, RESERVED_HEADER_NAMES } from "./delivery.js";
export type { DeliveryHeaders, DeliveryHeadersInput, DeliverySecret } from "./delivery.js";
export { packSignatures, unpackSignatures } from "./packed.js";
export type { SignatureHeaders } from "./packed.js";

export { SIGNED_HEADER_NAMES, SIGNED_HEADER_NAMES_V2, signedHeadersHop, signedHeadersHopV2 } from "./hop.js";
export type { HeaderInput } from "./headers.js";

export { MAX_EVENT_TYPE_LENGTH, MAX_MSG_ID_LENGTH } from "./fields.js";
