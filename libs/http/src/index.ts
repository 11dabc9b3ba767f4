export { createHttpApp, type HttpApp, type HttpAppOptions } from "./app.js";
export { errorHandler, notFoundHandler } from "./errors.js";
export { registerHealth, type ReadinessCheck } from "./health.js";
export { serve, type ServeOptions } from "./serve.js";
export { authenticatorFor, requireScope, principalOf } from "./auth.js";
export { errorBody, errorResponses, bearerSecurity, timestamp, iso, queryFlag, pageQuery, nextCursor } from "./schemas.js";
