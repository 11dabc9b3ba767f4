export type { NatsConnection } from "nats";
export { connectBus, checkJetStream, type BusSettings } from "./connect.js";
export { CONSUMING_STAGES, DEFAULT_ACK_WAIT_MS, ensureTopology, deleteTopology, streamName, subjectFor, type ConsumingStage } from "./topology.js";
export { publishAll, type Outgoing } from "./publish.js";
export { runStage, type Received, type RunningStage, type StageRunnerOptions } from "./stage.js";
export { EventMessage, RedactMessage, SealMessage, SendMessage, msgIds } from "./messages.js";
