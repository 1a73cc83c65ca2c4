/**
 * HTTP-date (RFC 9110 §5.6.7): formatting, and parsing of the three forms a recipient must
 * accept. `Date.parse` is not used: it takes many other forms, and reads asctime's (which
 * has no zone) as local time where HTTP says GMT.
 * @module
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const LONG_DAY = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTH = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const TIME = "(\\d\\d):(\\d\\d):(\\d\\d)";
/** Sun, 06 Nov 1994 08:49:37 GMT */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d\\d) ${MONTH} (\\d{4}) ${TIME} GMT$`);
/** Sunday, 06-Nov-94 08:49:37 GMT */
const RFC850 = new RegExp(`^${LONG_DAY}, (\\d\\d)-${MONTH}-(\\d\\d) ${TIME} GMT$`);
/** Sun Nov  6 08:49:37 1994 */
const ASCTIME = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/** `ms` (since the epoch) as an IMF-fixdate, whole seconds. */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/**
 * The time an HTTP-date names, in whole seconds since the epoch; undefined when `value` is
 * not an HTTP-date in one of its three forms or names no real date (31 Feb).
 */
export function parseHttpDate(value: string): number | undefined {
  const parts = dateParts(value);
  if (parts === undefined) return undefined;
  const { year, month, day, hour, minute, second } = parts;
  const monthIndex = MONTHS.indexOf(month);
  // 60 is a leap second (RFC 9110 §5.6.7 allows it); Date.UTC folds it into the next minute.
  if (hour > 23 || minute > 59 || second > 60 || day < 1) return undefined;
  const ms = Date.UTC(year, monthIndex, day, hour, minute, second);
  const check = new Date(Date.UTC(year, monthIndex, day));
  if (check.getUTCDate() !== day || check.getUTCMonth() !== monthIndex) return undefined;
  return Math.floor(ms / 1000);
}

interface DateParts {
  year: number;
  month: string;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function dateParts(value: string): DateParts | undefined {
  let m = IMF_FIXDATE.exec(value);
  if (m) return { day: Number(m[1]), month: m[2]!, year: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]) };
  if ((m = RFC850.exec(value))) {
    // RFC 9110 §5.6.7: a two-digit year that looks more than 50 years in the future is in the past century.
    const yy = Number(m[3]);
    const year = 2000 + yy > new Date().getUTCFullYear() + 50 ? 1900 + yy : 2000 + yy;
    return { day: Number(m[1]), month: m[2]!, year, hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]) };
  }
  if ((m = ASCTIME.exec(value))) {
    return { month: m[1]!, day: Number(m[2]!.trim()), hour: Number(m[3]), minute: Number(m[4]), second: Number(m[5]), year: Number(m[6]) };
  }
  return undefined;
}
