import { createServer, get } from "node:http";
import type { IncomingMessage, RequestOptions, Server } from "node:http";
import type { AddressInfo, LookupFunction, TcpNetConnectOpts } from "node:net";
import type { LookupAddress } from "node:dns";
import { afterEach, describe, expect, it } from "vitest";
import { guardedLookup } from "./lookup.js";
import type { Resolver } from "./resolve.js";
import { TargetRefusedError } from "./errors.js";

const strict = { allowLoopback: false };
const dev = { allowLoopback: true };

const answering =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

interface LookupResult {
  error: NodeJS.ErrnoException | null;
  address: string | LookupAddress[];
  family: number | undefined;
  sync: boolean;
}

function callLookup(lookup: LookupFunction, hostname: string, options: Parameters<LookupFunction>[1]): Promise<LookupResult> {
  return new Promise((resolve) => {
    let returned = false;
    lookup(hostname, options, (error, address, family) => resolve({ error, address, family, sync: !returned }));
    returned = true;
  });
}

describe("guardedLookup with an injected resolver", () => {
  it("returns the first address and its family when all is not set", async () => {
    const lookup = guardedLookup(strict, answering("2606:4700:4700::1111", "8.8.8.8"));
    const result = await callLookup(lookup, "hooks.example.com", {});
    expect(result).toEqual({ error: null, address: "2606:4700:4700::1111", family: 6, sync: false });
  });

  it("returns every address when all is true", async () => {
    const lookup = guardedLookup(strict, answering("8.8.8.8", "2606:4700:4700::1111"));
    const result = await callLookup(lookup, "hooks.example.com", { all: true });
    expect(result.error).toBeNull();
    expect(result.address).toEqual([
      { address: "8.8.8.8", family: 4 },
      { address: "2606:4700:4700::1111", family: 6 },
    ]);
  });

  it("honours the requested family, but only after checking every address", async () => {
    const lookup = guardedLookup(strict, answering("2606:4700:4700::1111", "8.8.8.8"));
    expect((await callLookup(lookup, "h.test", { family: 4 })).address).toBe("8.8.8.8");
    expect((await callLookup(lookup, "h.test", { family: "IPv6", all: true })).address).toEqual([{ address: "2606:4700:4700::1111", family: 6 }]);
    // The private IPv6 address is refused even though only IPv4 was asked for.
    const mixed = guardedLookup(strict, answering("8.8.8.8", "fd12::1"));
    expect((await callLookup(mixed, "h.test", { family: 4 })).error?.code).toBe("ADDRESS_NOT_ALLOWED");
  });

  it("reports HOST_NOT_RESOLVABLE when no address of the requested family exists", async () => {
    const lookup = guardedLookup(strict, answering("8.8.8.8"));
    const result = await callLookup(lookup, "h.test", { family: 6 });
    expect(result.error).toBeInstanceOf(TargetRefusedError);
    expect(result.error?.code).toBe("HOST_NOT_RESOLVABLE");
  });

  it("passes refusals to the callback as TargetRefusedError, asynchronously", async () => {
    const lookup = guardedLookup(strict, answering("127.0.0.1"));
    for (const all of [false, true]) {
      const result = await callLookup(lookup, "rebind.test", { all });
      expect(result.sync).toBe(false);
      expect(result.error).toBeInstanceOf(TargetRefusedError);
      expect(result.error?.code).toBe("ADDRESS_NOT_ALLOWED");
      expect((result.error as TargetRefusedError).addressClass).toBe("loopback");
    }
  });

  it("passes resolver failures as HOST_NOT_RESOLVABLE", async () => {
    const failing: Resolver = async () => {
      throw Object.assign(new Error("getaddrinfo EAI_AGAIN"), { code: "EAI_AGAIN" });
    };
    const result = await callLookup(guardedLookup(strict, failing), "flaky.test", {});
    expect(result.error?.code).toBe("HOST_NOT_RESOLVABLE");
    expect((result.error as TargetRefusedError).reason).toContain("EAI_AGAIN");
  });

  it("is not loosened by mutating the policy object after construction", async () => {
    const policy = { allowLoopback: false };
    const lookup = guardedLookup(policy, answering("127.0.0.1"));
    policy.allowLoopback = true;
    expect((await callLookup(lookup, "rebind.test", {})).error?.code).toBe("ADDRESS_NOT_ALLOWED");
  });
});

describe("guardedLookup end to end with node:http (DNS rebinding to loopback)", () => {
  let server: Server | undefined;
  let requests = 0;
  let connections = 0;

  async function startServer(): Promise<number> {
    requests = 0;
    connections = 0;
    server = createServer((_req, res) => {
      requests++;
      res.end("reached");
    });
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    server = undefined;
  });

  // The name "rebind.test" was public at registration; at connect time it points at this host.
  const rebound = answering("127.0.0.1");

  function request(port: number, lookup: LookupFunction, autoSelectFamily: boolean): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      // http.get hands autoSelectFamily on to net.connect; @types/node 20 just does not list it.
      const options: RequestOptions & Pick<TcpNetConnectOpts, "autoSelectFamily"> = {
        host: "rebind.test",
        port,
        path: "/",
        agent: false,
        lookup,
        autoSelectFamily,
      };
      const req = get(options, (res) => {
        res.resume();
        res.on("end", () => resolve(res));
      });
      req.on("error", reject);
    });
  }

  // autoSelectFamily makes node:net ask for { all: true }; without it, a single address.
  it.each([false, true])("refuses without allowLoopback and never reaches the server (autoSelectFamily=%s)", async (autoSelectFamily) => {
    const port = await startServer();
    const error = await request(port, guardedLookup(strict, rebound), autoSelectFamily).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TargetRefusedError);
    expect((error as TargetRefusedError).code).toBe("ADDRESS_NOT_ALLOWED");
    expect(connections).toBe(0);
    expect(requests).toBe(0);
  });

  it.each([false, true])("reaches the server with allowLoopback (autoSelectFamily=%s)", async (autoSelectFamily) => {
    const port = await startServer();
    const res = await request(port, guardedLookup(dev, rebound), autoSelectFamily);
    expect(res.statusCode).toBe(200);
    expect(requests).toBe(1);
  });
});
