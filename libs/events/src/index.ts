export { appendEvents, insertPreparedEvents, EventIdRace, EVENTS_CHANNEL, notifyEventsAppended, type NewEvent, type PreparedEventRow, type AppendedEvent } from "./append.js";
