// Builds the operator console (served by the API at /console) into dist/ (gitignored; `npm start`
// and the tests build it, nothing built is committed):
//   dist/index.html           the one page; its script and style are hashed assets
//   dist/assets/*-HASH.js|css  ES modules split per page (uPlot and the verifier load only on the
//                             pages that use them), each also as .gz and .br
//   dist/manifest.json        the files, their sizes, and the entry names
//
// `node build.mjs --out DIR` writes into DIR instead (the tests build into a temp dir). The output
// is written into a fresh directory and then renamed into place, so a running API never reads half.
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..");

function parseArgs(argv) {
  if (argv.length === 0) return join(here, "dist");
  if (argv.length === 2 && argv[0] === "--out") return resolve(argv[1]);
  throw new Error("usage: node build.mjs [--out DIR]");
}

const PAGE = (css, js) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Custody</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/${css}">
<link rel="modulepreload" href="/console/assets/${js}">
<script type="module" src="/console/assets/${js}"></script>
</head>
<body>
<div id="app"><p class="muted">Loading…</p></div>
<p id="fatal" class="error" role="alert" hidden></p>
<noscript>The Custody console needs JavaScript.</noscript>
</body>
</html>
`;

export async function buildConsole(outDir) {
  const staging = `${outDir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: repo,
    entryPoints: { main: join(here, "src/main.tsx"), styles: join(here, "src/styles.css") },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome100", "firefox100", "safari15"],
    jsx: "automatic",
    jsxImportSource: "preact",
    minify: true,
    sourcemap: false,
    legalComments: "none",
    outdir: join(staging, "assets"),
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    assetNames: "[name]-[hash]",
    metafile: true,
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const outputs = Object.entries(result.metafile.outputs);
  const entry = (name) => {
    const found = outputs.find(([, o]) => o.entryPoint !== undefined && basename(o.entryPoint).startsWith(name));
    if (found === undefined) throw new Error(`no output for ${name}`);
    return basename(found[0]);
  };
  const js = entry("main.tsx");
  const css = outputs.map(([p]) => basename(p)).find((p) => p.startsWith("styles-") && p.endsWith(".css"));
  if (css === undefined) throw new Error("no stylesheet was built");
  writeFileSync(join(staging, "index.html"), PAGE(css, js));
  const files = {};
  for (const name of ["index.html", ...readdirSync(join(staging, "assets")).map((f) => `assets/${f}`)]) {
    const path = join(staging, name);
    const bytes = readFileSync(path);
    if (name.endsWith(".js") && name.startsWith("assets/styles-")) continue;
    const gz = gzipSync(bytes, { level: 9 });
    const br = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
    writeFileSync(`${path}.gz`, gz);
    writeFileSync(`${path}.br`, br);
    files[name] = { bytes: bytes.length, gzip: gz.length, brotli: br.length };
  }
  // What the first render loads: the page, its stylesheet, its entry module and the chunks it imports statically.
  const firstJs = [js, ...(result.metafile.outputs[`${relOut(staging)}/assets/${js}`]?.imports ?? []).filter((i) => i.kind === "import-statement").map((i) => basename(i.path))];
  const first = ["index.html", `assets/${css}`, ...firstJs.map((f) => `assets/${f}`)];
  const sum = (k) => first.reduce((n, f) => n + (files[f]?.[k] ?? 0), 0);
  const manifest = { entry: { js, css }, firstRender: { files: first, bytes: sum("bytes"), gzip: sum("gzip"), brotli: sum("brotli") }, files };
  writeFileSync(join(staging, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  mkdirSync(dirname(outDir), { recursive: true });
  const old = `${outDir}.${process.pid}.old`;
  if (existsSync(outDir)) renameSync(outDir, old);
  renameSync(staging, outDir);
  rmSync(old, { recursive: true, force: true });
  return manifest;
}

function relOut(staging) {
  return resolve(staging).slice(repo.length + 1);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = parseArgs(process.argv.slice(2));
  const m = await buildConsole(outDir);
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`built ${outDir}: first render ${kb(m.firstRender.bytes)} (${kb(m.firstRender.gzip)} gzip, ${kb(m.firstRender.brotli)} brotli)`);
}
