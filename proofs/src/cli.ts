/**
 * Entry point of `custody-verify` (bundled by proofs/build.mjs into one file that runs with plain
 * `node` and no node_modules). Only this file touches Node: everything else is shared with the
 * browser verifier.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import process from "node:process";
import { runCli, type Io } from "./cli-run.js";

const io: Io = {
  readFile(path, maxBytes) {
    const fd = openSync(path, "r");
    try {
      // Checked on the open descriptor, so the file measured is the file read.
      const size = fstatSync(fd).size;
      if (size > maxBytes) throw new Error(`file is ${size} bytes; the limit is ${maxBytes}`);
      const out = new Uint8Array(size);
      let off = 0;
      while (off < size) {
        const n = readSync(fd, out, off, size - off, off);
        if (n === 0) break;
        off += n;
      }
      return off === size ? out : out.subarray(0, off);
    } finally {
      closeSync(fd);
    }
  },
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

process.exitCode = runCli(process.argv.slice(2), io);
