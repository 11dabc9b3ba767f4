export type { NatsConnection } from "nats";
export { connectBus, checkJetStream, OptionalBus, type BusSettings } from "./connect.js";
export { DEFAULT_ACK_WAIT_MS, MAX_REPLICAS, ensureTopology, deleteTopology, replicasRefused, streamConfig, streamName } from "./topology.js";
export {
  announce,
  commitMessages,
  offer,
  decodeEventContent,
  encodeEventContent,
  EventBatchMessage,
  EventContent,
  EventHopMessage,
  EventMessage,
  eventsOf,
  EVENT_BATCH_MOST,
  HOPS,
  OFFER_MOST_EVENTS,
  type PlainEventContent,
  subjectOf,
  type ConsumerName,
  type Hop,
  type HopMessage,
} from "./hops.js";
export { runStage, type Received, type RunningStage, type StageRunnerOptions } from "./stage.js";
