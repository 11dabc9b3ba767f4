/**
 * A limit meant for the whole platform, split among the `peers` live processes that enforce it
 * (this one included). Each process enforces its share alone, from a count refreshed off the
 * request path, so no request waits for another process. The split is even: it holds the total
 * when work is spread evenly over the processes (a load balancer's round robin, JetStream's pull
 * consumers), and gives a process that sees all of one tenant's traffic only its share.
 */

/** Rates may be fractional (a token bucket refills continuously), so the sum is exactly the limit. */
export function rateShare(limit: number, peers: number): number {
  return limit / livePeers(peers);
}

/**
 * A share of a whole number of slots, rounded down so the shares never add up to more than the
 * limit; at least 1, since a process with no slot could never deliver (with more processes than
 * slots the total is then the number of processes).
 */
export function concurrencyShare(limit: number, peers: number): number {
  return Math.max(1, Math.floor(limit / livePeers(peers)));
}

/** This process is always one of them, whatever a count (not yet taken, or wrong) says. */
function livePeers(peers: number): number {
  return Number.isFinite(peers) && peers >= 1 ? Math.floor(peers) : 1;
}
