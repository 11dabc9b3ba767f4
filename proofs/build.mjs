// Builds the standalone verifier:
//   dist/custody-verify.mjs  the CLI, one ESM file that runs with plain `node` and no node_modules
//   dist/verifier.html       the offline browser verifier: src/verifier.template.html with the
//                            IIFE bundle of src/browser.ts inlined
//   verifier.html            a copy of dist/verifier.html kept in git, so auditors can download the
//                            page without building (a test fails when it is stale)
//
// `node build.mjs --out DIR` writes both outputs into DIR only (the tests build into a temp dir, so
// they neither race with each other nor hide a stale committed verifier.html).
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..");

function parseArgs(argv) {
  if (argv.length === 0) return { outDir: join(here, "dist"), committed: join(here, "verifier.html") };
  if (argv.length === 2 && argv[0] === "--out") return { outDir: resolve(argv[1]), committed: undefined };
  throw new Error("usage: node build.mjs [--out DIR]");
}

/** Writes via a temporary file and rename, so a concurrent reader never sees half a file. */
function writeAtomic(path, data, mode) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, mode === undefined ? undefined : { mode });
  renameSync(tmp, path);
}

async function bundle(options) {
  const result = await build({
    bundle: true,
    write: false,
    // Relative to the repo root, so the path comments in the output do not depend on where the
    // checkout lives and the build is reproducible byte for byte.
    absWorkingDir: repo,
    logLevel: "warning",
    legalComments: "inline",
    ...options,
  });
  const [file] = result.outputFiles;
  if (file === undefined) throw new Error("esbuild produced no output");
  return file.text;
}

const sha256Base64 = (text) => createHash("sha256").update(text, "utf8").digest("base64");

/** Inlines the script into the template; the page's CSP allows exactly this script and style. */
export function renderPage(template, script) {
  // Inside <script>, "</script" ends the element and "<!--" changes how the HTML parser reads it.
  // "<\/script" means the same in every JS context esbuild emits (strings, templates, regexps,
  // comments); a "<!--" is not expected at all, so it stops the build instead of being rewritten.
  const safe = script.replace(/<\/(script)/gi, "<\\/$1");
  if (/<!--/.test(safe)) throw new Error("the browser bundle contains <!--, which cannot be inlined safely");
  const style = /<style>([\s\S]*?)<\/style>/.exec(template)?.[1];
  if (style === undefined) throw new Error("the template has no <style> element");
  const parts = template.split("@@SCRIPT@@");
  if (parts.length !== 2) throw new Error("the template must contain @@SCRIPT@@ exactly once");
  const scriptText = `\n${safe}\n`;
  return (parts[0] + `<script>${scriptText}</script>` + parts[1]).replace("@@SCRIPT_HASH@@", `sha256-${sha256Base64(scriptText)}`).replace("@@STYLE_HASH@@", `sha256-${sha256Base64(style)}`);
}

export async function buildAll(outDir, committed) {
  const cli = await bundle({
    entryPoints: [join(here, "src/cli.ts")],
    platform: "node",
    format: "esm",
    target: "node20",
    banner: { js: "#!/usr/bin/env node" },
  });
  const browserJs = await bundle({
    entryPoints: [join(here, "src/browser.ts")],
    platform: "browser",
    format: "iife",
    target: ["es2022", "chrome100", "firefox100", "safari15"],
  });
  const page = renderPage(readFileSync(join(here, "src/verifier.template.html"), "utf8"), browserJs);
  writeAtomic(join(outDir, "custody-verify.mjs"), cli, 0o755);
  chmodSync(join(outDir, "custody-verify.mjs"), 0o755);
  writeAtomic(join(outDir, "verifier.html"), page);
  if (committed !== undefined) writeAtomic(committed, page);
  return { cli: join(outDir, "custody-verify.mjs"), html: join(outDir, "verifier.html") };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { outDir, committed } = parseArgs(process.argv.slice(2));
  const out = await buildAll(outDir, committed);
  console.log(`built ${out.cli}\nbuilt ${out.html}${committed ? `\nbuilt ${committed}` : ""}`);
}
