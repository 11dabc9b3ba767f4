export { encryptSecret, decryptSecret } from "./envelope.js";
export { resolveMasterKey } from "./master-key.js";
export { activePlatformSigner, rotatePlatformKey, listPlatformKeys, type PlatformKeyInfo } from "./platform-keys.js";
