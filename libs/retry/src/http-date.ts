/*
 * HTTP-date, RFC 9110 §5.6.7. A recipient "MUST accept all three HTTP-date formats": IMF-fixdate
 * and the obsolete RFC 850 and asctime forms. Parsed strictly by hand (Date.parse accepts far more
 * and differs between engines): exact spacing, case-sensitive names, "GMT" only, real calendar
 * dates, and a day name that matches the date. Anything else is garbage and yields undefined.
 */

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

const DAY = DAYS.join("|");
const LONG_DAY = LONG_DAYS.join("|");
const MONTH = MONTHS.join("|");
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";

// Sun, 06 Nov 1994 08:49:37 GMT
const IMF_FIXDATE = new RegExp(`^(${DAY}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`);
// Sunday, 06-Nov-94 08:49:37 GMT
const RFC850_DATE = new RegExp(`^(${LONG_DAY}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`);
// Sun Nov  6 08:49:37 1994   (day is 2DIGIT or SP DIGIT)
const ASCTIME_DATE = new RegExp(`^(${DAY}) (${MONTH}) (\\d{2}| \\d) ${TIME} (\\d{4})$`);

interface Fields {
  weekday: number;
  day: number;
  month: number;
  year: number;
  hour: number;
  minute: number;
  second: number;
}

/** Milliseconds since the epoch; years below 100 are taken literally (Date.UTC would add 1900). */
function utcMs(f: Fields): number {
  const d = new Date(0);
  d.setUTCFullYear(f.year, f.month, f.day);
  d.setUTCHours(f.hour, f.minute, f.second, 0);
  return d.getTime();
}

function toEpochMs(f: Fields): number | undefined {
  // RFC 9110 §5.6.7: time-of-day 00:00:00 - 23:59:60, the 60 being a leap second (which lands on
  // the next minute's :00, one second late at worst).
  if (f.hour > 23 || f.minute > 59 || f.second > 60) return undefined;
  const daysInMonth = new Date(utcMs({ weekday: f.weekday, day: 0, month: f.month + 1, year: f.year, hour: 0, minute: 0, second: 0 })).getUTCDate();
  if (f.day < 1 || f.day > daysInMonth) return undefined;
  const ms = utcMs(f);
  if (new Date(ms - (f.second === 60 ? 1000 : 0)).getUTCDay() !== f.weekday) return undefined;
  return ms;
}

/**
 * RFC 9110 §5.6.7: a two-digit rfc850 year that "appears to be more than 50 years in the future"
 * is the most recent past year with the same last two digits; so pick the year in
 * (now - 50, now + 50] ending in `yy`.
 */
function fullYear(yy: number, nowMs: number): number {
  const nowYear = new Date(nowMs).getUTCFullYear();
  const ahead = (((yy - (nowYear % 100)) % 100) + 100) % 100;
  return ahead > 50 ? nowYear + ahead - 100 : nowYear + ahead;
}

/** Parses an HTTP-date to epoch milliseconds; `nowMs` only resolves rfc850's two-digit year. */
export function parseHttpDate(value: string, nowMs: number): number | undefined {
  let m = IMF_FIXDATE.exec(value);
  if (m) {
    const [, wd, dd, mon, yyyy, hh, mi, ss] = m as unknown as [string, string, string, string, string, string, string, string];
    return toEpochMs({ weekday: DAYS.indexOf(wd as (typeof DAYS)[number]), day: +dd, month: MONTHS.indexOf(mon as (typeof MONTHS)[number]), year: +yyyy, hour: +hh, minute: +mi, second: +ss });
  }
  m = RFC850_DATE.exec(value);
  if (m) {
    const [, wd, dd, mon, yy, hh, mi, ss] = m as unknown as [string, string, string, string, string, string, string, string];
    return toEpochMs({
      weekday: LONG_DAYS.indexOf(wd as (typeof LONG_DAYS)[number]),
      day: +dd,
      month: MONTHS.indexOf(mon as (typeof MONTHS)[number]),
      year: fullYear(+yy, nowMs),
      hour: +hh,
      minute: +mi,
      second: +ss,
    });
  }
  m = ASCTIME_DATE.exec(value);
  if (m) {
    const [, wd, mon, dd, hh, mi, ss, yyyy] = m as unknown as [string, string, string, string, string, string, string, string];
    return toEpochMs({ weekday: DAYS.indexOf(wd as (typeof DAYS)[number]), day: +dd.trim(), month: MONTHS.indexOf(mon as (typeof MONTHS)[number]), year: +yyyy, hour: +hh, minute: +mi, second: +ss });
  }
  return undefined;
}
