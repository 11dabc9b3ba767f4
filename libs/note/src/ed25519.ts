/** Ed25519 as signed notes use it; the primitives and their strict policy live in @custody/crypto. */
export { ed25519Sign as signEd25519, isUsablePublicKey, PUBLIC_KEY_SIZE, publicKeyFromSeed, randomSeed, SEED_SIZE, SIGNATURE_SIZE, verifyEd25519 } from "@custody/crypto";
