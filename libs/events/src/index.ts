export { appendEvents, EVENT_OUTBOX_SUBJECT, type NewEvent, type AppendedEvent } from "./append.js";
