export { AppError, isAppError, type ErrorBody, type AppErrorOptions } from "./app-error.js";
export { ErrorCodes, type ErrorCode } from "./codes.js";
