/**
 * The built console as the API serves it (node side; the browser code is everything else in src/).
 * `console/build.mjs` writes `dist/`; `npm start` runs it before starting the API, and the tests
 * build into a directory of their own (CUSTODY_CONSOLE_DIR).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const CONSOLE_DIST_DIR = fileURLToPath(new URL("../dist/", import.meta.url));
export const CONSOLE_BUILD_SCRIPT = fileURLToPath(new URL("../build.mjs", import.meta.url));

export interface ConsoleFile {
  body: Buffer;
  gzip: Buffer | undefined;
  brotli: Buffer | undefined;
  type: string;
  etag: string;
}

export interface ConsoleBuild {
  index: ConsoleFile;
  /** By file name under `assets/` (names carry a content hash). */
  assets: Map<string, ConsoleFile>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
};

function readFile(path: string): ConsoleFile {
  const body = readFileSync(path);
  const maybe = (p: string) => (existsSync(p) ? readFileSync(p) : undefined);
  return {
    body,
    gzip: maybe(`${path}.gz`),
    brotli: maybe(`${path}.br`),
    type: TYPES[extname(path)] ?? "application/octet-stream",
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
  };
}

/** Reads a built console into memory (a few hundred KiB), or undefined when `dir` holds none. */
export function loadConsoleBuild(dir: string = CONSOLE_DIST_DIR): ConsoleBuild | undefined {
  const indexPath = join(dir, "index.html");
  if (!existsSync(indexPath)) return undefined;
  const assets = new Map<string, ConsoleFile>();
  const assetDir = join(dir, "assets");
  for (const name of existsSync(assetDir) ? readdirSync(assetDir) : []) {
    if (name.endsWith(".gz") || name.endsWith(".br")) continue;
    assets.set(name, readFile(join(assetDir, name)));
  }
  return { index: readFile(indexPath), assets };
}
