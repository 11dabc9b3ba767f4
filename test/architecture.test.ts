import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { configurationMarkdown } from "@custody/config";

const root = fileURLToPath(new URL("../", import.meta.url));

interface Pkg {
  dir: string;
  name: string;
  layer: "lib" | "service" | "verifier" | "console";
  deps: string[];
  /** `"custody": { "pure": true }` in package.json: no I/O, so it runs in the browser verifier. */
  pure: boolean;
}

function packages(): Pkg[] {
  const out: Pkg[] = [];
  for (const [parent, layer] of [
    ["libs", "lib"],
    ["services", "service"],
  ] as const) {
    for (const name of readdirSync(join(root, parent))) out.push(load(join(parent, name), layer));
  }
  out.push(load("proofs", "verifier"));
  out.push(load("console", "console"));
  return out;
}

function load(dir: string, layer: Pkg["layer"]): Pkg {
  const json = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as { name: string; dependencies?: Record<string, string>; custody?: { pure?: boolean } };
  return { dir, name: json.name, layer, deps: Object.keys(json.dependencies ?? {}), pure: json.custody?.pure === true };
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry === "node_modules" || entry === "dist") continue;
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts|mjs)$/.test(entry)) out.push(path);
  }
  return out;
}

const IMPORT = /(?:^|\s)(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
}

describe("architecture", () => {
  const pkgs = packages();
  const byName = new Map(pkgs.map((p) => [p.name, p]));

  it("names every package @custody/<name>", () => {
    for (const p of pkgs) expect(p.name, p.dir).toMatch(/^@custody\/[a-z-]+$/);
  });

  it("lets services depend on libs only, libs on libs only, and the verifier on pure libs only", () => {
    // Two exceptions, both about the browser console: it bundles the verifier's own modules (custody
    // is verified in the page by the verifier's code), and the API serves its built files.
    const allowed = (from: Pkg, to: Pkg) => to.layer === "lib" || (from.layer === "console" && to.layer === "verifier") || (from.name === "@custody/api" && to.layer === "console");
    for (const p of pkgs) {
      for (const dep of p.deps.filter((d) => d.startsWith("@custody/"))) {
        const target = byName.get(dep);
        expect(target, `${p.name} depends on unknown ${dep}`).toBeDefined();
        expect(allowed(p, target!), `${p.name} -> ${dep}`).toBe(true);
      }
    }
  });

  it("imports only what package.json declares, and never reaches into another package by path", () => {
    for (const p of pkgs) {
      for (const file of sourceFiles(join(root, p.dir, "src"))) {
        for (const spec of importsOf(file)) {
          const where = `${relative(root, file)} imports ${spec}`;
          if (spec.startsWith(".")) {
            const resolved = relative(join(root, p.dir), join(file, "..", spec));
            expect(resolved.startsWith(".."), where).toBe(false);
          } else if (spec.startsWith("@custody/")) {
            const dep = spec.split("/").slice(0, 2).join("/");
            expect(p.deps, where).toContain(dep);
          }
        }
      }
    }
  });

  it("declares purity only on libs, and lets the verifier, the console and pure libs depend only on pure libs", () => {
    // The verifier runs offline in a browser page and the console bundles the verifier's modules, so
    // everything they reach must be pure; a pure lib that depended on an I/O lib would make the
    // verifier pull that lib in. The console may also depend on the verifier itself.
    for (const p of pkgs) expect(!p.pure || p.layer === "lib", `${p.name} is declared pure but is not a lib`).toBe(true);
    const pureOnly = pkgs.filter((p) => p.pure || p.layer === "verifier" || p.layer === "console");
    expect(pureOnly.filter((p) => p.pure).length).toBeGreaterThan(5);
    for (const p of pureOnly) {
      for (const dep of p.deps.filter((d) => d.startsWith("@custody/"))) {
        const target = byName.get(dep)!;
        expect(target.pure || (p.layer === "console" && target.layer === "verifier"), `${p.name} -> ${dep}, which is not pure`).toBe(true);
      }
    }
  });

  it("keeps pure libs free of I/O: no Node built-in, no database, broker or HTTP client, no process or Buffer", () => {
    const builtins = new Set(builtinModules);
    const ioPackages = /^(?:pg|kysely|nats|pino|pino-pretty|fastify|@fastify\/.*|undici)$/;
    // libs/config is not pure: it is the one reader of the environment (loadConfig defaults to process.env).
    for (const p of pkgs.filter((q) => q.pure)) {
      for (const dep of p.deps) expect(ioPackages.test(dep), `${p.name} depends on ${dep}`).toBe(false);
      for (const file of sourceFiles(join(root, p.dir, "src"))) {
        const rel = relative(root, file);
        if (/\.(test|fixture)\.ts$/.test(rel)) continue;
        const sideEffects = [...readFileSync(file, "utf8").matchAll(/^\s*import\s*["']([^"']+)["']/gm)].map((m) => m[1]!);
        for (const spec of [...importsOf(file), ...sideEffects]) {
          expect(spec.startsWith("node:") || builtins.has(spec.split("/")[0]!), `${rel} imports ${spec}`).toBe(false);
        }
        // Comments may name what the code avoids ("Buffer.from is lenient"); only code counts.
        const code = readFileSync(file, "utf8")
          .replace(/\/\*[\s\S]*?\*\//g, "")
          .replace(/\/\/.*$/gm, "");
        expect(code, `${rel} uses a Node-only global`).not.toMatch(/\bprocess\.|\bBuffer\b|\brequire\(/);
      }
    }
  });

  it("reads the environment only through libs/config", () => {
    // up.ts forwards the environment to the services it starts; local-infra passes it to apt-get.
    const allowed = new Set(["libs/config/src/load.ts", "services/cli/src/up.ts", "services/cli/src/local-infra.ts"]);
    for (const p of pkgs) {
      for (const file of sourceFiles(join(root, p.dir, "src"))) {
        const rel = relative(root, file);
        if (rel.endsWith(".test.ts") || allowed.has(rel)) continue;
        expect(readFileSync(file, "utf8"), rel).not.toMatch(/process\.env/);
      }
    }
  });

  it("writes the delivery tables only through libs/deliveries, their one owner", () => {
    const tables = "deliveries|attempt_seals|attempt_outcomes|custody_batches|outcome_batches";
    const write = new RegExp(`\\b(?:INSERT\\s+INTO|UPDATE|DELETE\\s+FROM)\\s+(?:${tables})\\b|\\.(?:insertInto|updateTable|deleteFrom)\\(\\s*["'](?:${tables})["']`, "i");
    for (const p of pkgs.filter((p) => p.name !== "@custody/deliveries")) {
      for (const file of sourceFiles(join(root, p.dir, "src"))) {
        const rel = relative(root, file);
        if (/\.(test|fixture)\.ts$/.test(rel)) continue;
        expect(readFileSync(file, "utf8"), rel).not.toMatch(write);
      }
    }
  });

  it("keeps docs/configuration.md in sync with the config schema", () => {
    expect(readFileSync(join(root, "docs/configuration.md"), "utf8")).toBe(configurationMarkdown());
  });
});
