/**
 * @custody/deliveries: the one owner of the delivery tables — deliveries, attempt_seals,
 * attempt_outcomes and their batches. Every state transition of a delivery is a function here,
 * taking the caller's transaction (or none: a batch is one atomic statement), with its guard
 * written once.
 */
export { createDeliveries, newDeliveryId, type NewDelivery } from "./create.js";
export { createSealedDeliveries, recordSeals } from "./seals.js";
export { recordOutcomes, recordedAmong, outcomeKey, type OutcomeToRecord } from "./outcomes.js";
export { loadSeals, type LoadedSeal, type SealedAttemptKey } from "./sealed.js";
export { AttemptRace, beginAttempts, deadLetterUnsent, leaseDue, outcomeLeafHashes, postpone, type BeginAttempt, type DueDelivery } from "./schedule.js";
export type { DeliveryUpdate, RemovedField } from "./types.js";
export { cancelUnsealed, countActiveDeliveries, DELIVERIES_CHANNEL, recalledSql, retargetActiveDeliveries, notifyDeliveriesQueued, queueDeliveries, retryNow, type QueuedDelivery } from "./queue.js";
export { outcomesOf, sealsOf, type LoadedOutcome } from "./evidence.js";
