export { appendEvents, insertPreparedEvents, EventIdRace, EVENT_OUTBOX_SUBJECT, type NewEvent, type PreparedEventRow, type AppendedEvent } from "./append.js";
