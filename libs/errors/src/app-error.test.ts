import { describe, expect, it } from "vitest";
import { AppError, ErrorCodes } from "./index.js";

describe("AppError", () => {
  it("takes its status from the registry and keeps the cause", () => {
    const cause = new Error("socket closed");
    const err = new AppError("NOT_FOUND", "no such webhook", { field: "params.id", cause });
    expect(err.status).toBe(404);
    expect(err.cause).toBe(cause);
    expect(err.toBody()).toEqual({ error: { code: "NOT_FOUND", message: "no such webhook", field: "params.id" } });
  });

  it("omits absent optional fields from the body", () => {
    expect(new AppError("CONFLICT", "x").toBody()).toEqual({ error: { code: "CONFLICT", message: "x" } });
  });

  it("uses SCREAMING_SNAKE codes only", () => {
    for (const code of Object.keys(ErrorCodes)) expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });
});
