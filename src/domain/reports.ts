/**
 * Reports, pure part: report periods (UTC dates), CSV text (RFC 4180) with the OWASP guard
 * against formula injection, and amounts written both as integers of the smallest unit and as
 * decimals with the currency's digits.
 */

export type ReportType = "transactions" | "settlement";
export const REPORT_TYPES = ["transactions", "settlement"] as const;
export const REPORT_STATUSES = ["pending", "ready", "failed"] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

const DAY = 86_400;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Unix seconds of 00:00:00 UTC on a YYYY-MM-DD date, or null when it is not a real date. */
export function dateStart(date: string): number | null {
	const m = DATE.exec(date);
	if (!m) return null;
	const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
	// Date.UTC rolls 2026-02-30 over to March: a real date formats back to itself.
	return new Date(ms).toISOString().slice(0, 10) === date ? ms / 1000 : null;
}

/** The UTC date (YYYY-MM-DD) a Unix time falls on. */
export function utcDate(seconds: number): string {
	return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** The date `days` after (or before, when negative) a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
	const start = dateStart(date);
	if (start === null) throw new RangeError(`not a date: ${date}`);
	return utcDate(start + days * DAY);
}

/** A period's bounds in Unix seconds: [start, end) from `from` 00:00 to the day after `to`. */
export function periodBounds(from: string, to: string): { start: number; end: number } {
	const start = dateStart(from);
	const last = dateStart(to);
	if (start === null || last === null) throw new RangeError(`not a period: ${from}..${to}`);
	return { start, end: last + DAY };
}

/** Days in an inclusive period. */
export function periodDays(from: string, to: string): number {
	const { start, end } = periodBounds(from, to);
	return (end - start) / DAY;
}

export const MAX_PERIOD_DAYS = 366;

/**
 * Why a requested period cannot be reported on, with the parameter at fault; null when it can:
 * real dates, from ≤ to, at most 366 days, and not ending after today (UTC).
 */
export function periodProblem(
	from: string,
	to: string,
	now: number,
): { param: "from" | "to"; message: string } | null {
	if (dateStart(from) === null)
		return { param: "from", message: "must be a date in the form YYYY-MM-DD" };
	if (dateStart(to) === null)
		return { param: "to", message: "must be a date in the form YYYY-MM-DD" };
	if (from > to) return { param: "to", message: "must not be before 'from'" };
	if (to > utcDate(now)) return { param: "to", message: "must not be in the future (UTC)" };
	if (periodDays(from, to) > MAX_PERIOD_DAYS)
		return { param: "to", message: `a report covers at most ${MAX_PERIOD_DAYS} days` };
	return null;
}

/** ISO 8601 UTC without milliseconds, as report files show times. */
export function isoTime(seconds: number): string {
	return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/**
 * An integer amount of a currency's smallest unit as a decimal with exactly `digits` digits
 * after the point ("1234" usd is "12.34", "-5" with 9 digits is "-0.000000005").
 */
export function formatUnits(amount: bigint | number | string, digits: number): string {
	const value = BigInt(amount);
	const negative = value < 0n;
	const text = (negative ? -value : value).toString();
	if (digits === 0) return (negative ? "-" : "") + text;
	const padded = text.padStart(digits + 1, "0");
	return `${negative ? "-" : ""}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

export type Cell = string | number | bigint | boolean | null | undefined;

/**
 * One CSV field. A text starting with = + - @ (or a tab or carriage return, which some
 * spreadsheets strip first) is prefixed with a quote so no spreadsheet runs it as a formula
 * (OWASP CSV injection). A plain number ("-12.34") cannot be a formula and stays a number.
 * Fields with a comma, quote or line break are quoted, quotes doubled (RFC 4180).
 */
export function csvField(value: Cell): string {
	if (value === null || value === undefined) return "";
	if (typeof value !== "string") return String(value);
	const formula = /^[=+\-@\t\r]/.test(value) && !PLAIN_NUMBER.test(value);
	const safe = formula ? `'${value}` : value;
	return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** A CSV line with its CRLF terminator (RFC 4180). */
export function csvLine(cells: readonly Cell[]): string {
	return `${cells.map(csvField).join(",")}\r\n`;
}

/** A whole CSV document: the header, then one line per row. */
export function toCsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
	return csvLine(header) + rows.map(csvLine).join("");
}

/** JSON with bigints written as decimal strings (token amounts exceed 2^53). */
export function toJsonText(value: unknown): string {
	return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v));
}
