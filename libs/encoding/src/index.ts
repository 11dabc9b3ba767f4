export { encodeBase64, decodeBase64 } from "./base64.js";
export { encodeBase64Url, decodeBase64Url } from "./base64url.js";
export { toHex, fromHex } from "./hex.js";
export { allocBytes, utf8Bytes } from "./pool.js";
export { canonicalize, type JsonArray, type JsonObject, type JsonPrimitive, type JsonValue } from "./canonical-json.js";
export { EncodingError, type EncodingErrorCode } from "./errors.js";
export { HEX32, KEY_ID_HEX, isHex32, isId, isTimeMs, isIntIn } from "./formats.js";
