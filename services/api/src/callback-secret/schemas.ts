import { z } from "zod";

export const callbackSecretStatus = z.object({
  currentKeyId: z.string().nullable().describe("`whk_…` of the secret new callback deliveries are signed with; null if the tenant has none yet."),
  createdAt: z.iso.datetime().nullable().describe("When the current secret was created."),
  previousKeyId: z.string().nullable().describe("The rotated-out secret that deliveries are still also signed with, if any."),
  previousValidUntil: z.iso.datetime().nullable().describe("When the previous secret stops being used."),
});
export type CallbackSecretStatus = z.infer<typeof callbackSecretStatus>;
