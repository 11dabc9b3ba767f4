import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The browser verifier bundles this library, so its runtime modules may import only the pure
// @custody/crypto and @custody/encoding, noble's byte utilities, and each other: no node: modules, no I/O globals.
const dir = fileURLToPath(new URL(".", import.meta.url));
const runtimeFiles = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".fixture.ts"));

describe("purity", () => {
  it.each(runtimeFiles)("%s imports only pure modules: @custody/crypto, @custody/encoding, noble's utils and relative .js modules", (file) => {
    // Comments may mention what we avoid (e.g. "atob/Buffer are lenient"); only code counts.
    const src = readFileSync(dir + file, "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    const specifiers = [...src.matchAll(/\bfrom\s+"([^"]+)"/g)].map((m) => m[1] as string);
    for (const s of specifiers) expect(s).toMatch(/^(?:\.\/[a-z0-9-]+\.js|@noble\/hashes\/utils\.js|@custody\/(?:encoding|crypto))$/);
    expect(src).not.toMatch(/\bimport\s*\(|\brequire\s*\(|\bprocess\.|\bBuffer\b|\bfetch\s*\(|Date\.now|Math\.random/);
  });
});
