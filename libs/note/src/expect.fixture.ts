import { NoteError, type NoteErrorCode } from "./index.js";

/** The NoteError code a call throws, so a test asserts the exact failure, not just that one happened. */
export function code(f: () => unknown): NoteErrorCode | "no error" | "not a NoteError" {
  try {
    f();
    return "no error";
  } catch (e) {
    return e instanceof NoteError ? e.code : "not a NoteError";
  }
}
