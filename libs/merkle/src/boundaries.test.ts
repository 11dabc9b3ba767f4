import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The library must run in a browser bundle: no node: built-ins, no I/O, and no test-only code
// reachable from its modules. Tests and *.fixture.ts may use Node freely.
const here = dirname(fileURLToPath(import.meta.url));
const libraryFiles = readdirSync(here).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".fixture.ts"));

function importsOf(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gm), ...source.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1] ?? "");
}

describe("library boundaries", () => {
  it("finds the library modules", () => {
    expect(libraryFiles).toContain("index.ts");
    expect(libraryFiles.length).toBeGreaterThan(5);
  });

  it.each(libraryFiles)("%s imports only sibling modules, @custody/crypto and @custody/encoding", (file) => {
    const source = readFileSync(join(here, file), "utf8");
    for (const spec of importsOf(source)) {
      const ok = /^\.\/[a-z0-9-]+\.js$/.test(spec) && !spec.endsWith(".fixture.js") ? true : spec === "@custody/crypto" || spec === "@custody/encoding";
      expect(ok, `${file} imports ${spec}`).toBe(true);
    }
    const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    expect(code, `${file} uses a Node-only global`).not.toMatch(/\bprocess\.|\brequire\(|\bBuffer\b|\b__dirname\b/);
  });
});
