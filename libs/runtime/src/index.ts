export { onShutdown } from "./shutdown.js";
export { openDependencies, type Dependencies } from "./dependencies.js";
export { nativeCryptoBackend, useNativeCrypto } from "./native-crypto.js";
export { LivePeers, type LivePeersOptions } from "./peers.js";
