import { AppError } from "@custody/errors";
import { parseTargetUrl, resolveAndCheck, TargetRefusedError } from "@custody/netguard";
import type { ApiContext } from "../shared/context.js";

/**
 * Checks a webhook URL against the SSRF policy, resolving its host now so a name that points inside
 * our network is refused at registration, not at the first delivery. Returns the normalised URL,
 * which is what gets stored and called (`https://2130706433/` would be stored as
 * `https://127.0.0.1/`). The delivery worker checks again at connect time: DNS can change.
 */
export async function checkTargetUrl(ctx: ApiContext, raw: string, field = "body.url"): Promise<string> {
  const policy = { allowLoopback: ctx.config.CUSTODY_ALLOW_LOOPBACK_TARGETS };
  try {
    const url = parseTargetUrl(raw, policy);
    await resolveAndCheck(url.hostname, policy, ctx.resolver);
    return url.href;
  } catch (err) {
    if (!(err instanceof TargetRefusedError)) throw err;
    throw new AppError("TARGET_REFUSED", err.reason, {
      field,
      details: { reason: err.code, ...(err.addressClass === undefined ? {} : { addressClass: err.addressClass }) },
    });
  }
}
