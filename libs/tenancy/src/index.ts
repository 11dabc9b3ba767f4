export { generateApiKey, hashApiKey, isWellFormedApiKey, ALL_SCOPES, type KeyEnvironment, type Scope, type NewApiKey } from "./api-key.js";
export { createTenant, insertApiKey, authenticate, type CreatedTenant, type ApiKeySpec, type Principal } from "./repository.js";
export { ApiKeyAuthenticator, API_KEY_CACHE_MS } from "./authenticator.js";
export {
  PORTAL_CAPABILITIES,
  PORTAL_SESSION_CACHE_MS,
  PortalAuthenticator,
  insertPortalSession,
  listPortalSessions,
  revokePortalSession,
  isPortalToken,
  hashPortalToken,
  type PortalCapability,
  type PortalGrant,
  type PortalTheme,
  type PortalSessionRow,
  type NewPortalSession,
} from "./portal.js";
