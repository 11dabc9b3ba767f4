export { cryptoBackend, ed25519Sign, hmacSha256, portableBackend, sha256, useCryptoBackend, type CryptoBackend } from "./backend.js";
export { isUsablePublicKey, PUBLIC_KEY_SIZE, publicKeyFromSeed, randomSeed, SEED_SIZE, SIGNATURE_SIZE, verifyEd25519 } from "./ed25519.js";
