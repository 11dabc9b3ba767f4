import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["libs/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "proofs/src/**/*.test.ts", "test/**/*.test.ts"],
    // Integration tests talk to the real Postgres and NATS; each file makes its own database and stream prefix.
    pool: "forks",
    // Generous: integration tests share 2 cores with Postgres, NATS and pipeline processes. These guard
    // against hangs; no test asserts on time.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
