export { encodeBase64, decodeBase64 } from "./base64.js";
export { encodeBase64Url, decodeBase64Url } from "./base64url.js";
