/** A field a redaction removed (FORMAT.md §5). */
export interface RemovedField {
  path: string;
  salt: string;
  commitment: string;
}

/** The deliveries columns an attempt's outcome sets (deliver's pure settle core decides them). */
export interface DeliveryUpdate {
  status: "delivered" | "retrying" | "dead";
  next_attempt_at: Date | null;
  last_delay_ms: number | null;
  last_status_code: number | null;
  last_error: string | null;
  dead_reason: string | null;
  delivered_at: Date | null;
}
