export { generateApiKey, hashApiKey, isWellFormedApiKey, ALL_SCOPES, type KeyEnvironment, type Scope, type NewApiKey } from "./api-key.js";
export { createTenant, insertApiKey, authenticate, type CreatedTenant, type ApiKeySpec, type Principal } from "./repository.js";
export { ApiKeyAuthenticator, API_KEY_CACHE_MS } from "./authenticator.js";
