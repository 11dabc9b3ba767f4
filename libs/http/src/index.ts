export { createHttpApp, type HttpApp, type HttpAppOptions } from "./app.js";
export { errorHandler, notFoundHandler, clientErrorHandler, isDatabaseUnavailable, DATABASE_RETRY_AFTER_SECONDS } from "./errors.js";
export { checkJsonText } from "./json-body.js";
export { registerHealth, type ReadinessCheck } from "./health.js";
export { serve, type ServeOptions } from "./serve.js";
export { authenticatorFor, portalAuthenticatorFor, requireScope, principalOf, visibleEndpoints, type PortalRule } from "./auth.js";
export { errorBody, errorResponses, unavailableResponse, bearerSecurity, timestamp, iso, queryFlag, pageQuery, nextCursor } from "./schemas.js";
