import { readFileSync } from "node:fs";
import { join } from "node:path";

// `wrangler dev` never fires cron triggers by itself. `npm run dev` fires the ones wrangler.toml
// declares, on their schedule (UTC), through wrangler dev's /__scheduled, so the rollups behind
// the dashboard and the daily reports run locally as they do in production.

const FIELDS = [
	{ name: "minute", min: 0, max: 59 },
	{ name: "hour", min: 0, max: 23 },
	{ name: "day of month", min: 1, max: 31 },
	{ name: "month", min: 1, max: 12 },
	{ name: "day of week", min: 0, max: 6 },
] as const;

/** The values one field allows: `*`, `*\/n`, `a`, `a-b`, `a-b/n`, and lists of those. */
function fieldValues(text: string, min: number, max: number, what: string): Set<number> {
	const values = new Set<number>();
	for (const part of text.split(",")) {
		const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
		if (!match) throw new Error(`cron ${what}: cannot read '${part}'`);
		const from = match[1] === "*" ? min : Number(match[2]);
		const to = match[1] === "*" ? max : match[3] !== undefined ? Number(match[3]) : from;
		const step = match[4] !== undefined ? Number(match[4]) : 1;
		if (from < min || to > max || from > to || step < 1)
			throw new Error(`cron ${what}: '${part}' is outside ${min}-${max}`);
		for (let v = from; v <= to; v += step) values.add(v);
	}
	return values;
}

export interface CronSchedule {
	expression: string;
	matches(at: Date): boolean;
}

/** Parses a five-field cron expression as Cloudflare reads it (UTC). */
export function parseCron(expression: string): CronSchedule {
	const parts = expression.trim().split(/\s+/);
	if (parts.length !== 5) throw new Error(`cron '${expression}': expected five fields`);
	const sets = parts.map((p, i) => {
		const field = FIELDS[i] as (typeof FIELDS)[number];
		return fieldValues(p, field.min, field.max, field.name);
	});
	const [minutes, hours, days, months, weekdays] = sets as [
		Set<number>,
		Set<number>,
		Set<number>,
		Set<number>,
		Set<number>,
	];
	const dayAny = parts[2] === "*";
	const weekdayAny = parts[4] === "*";
	return {
		expression,
		matches(at: Date): boolean {
			if (!minutes.has(at.getUTCMinutes()) || !hours.has(at.getUTCHours())) return false;
			if (!months.has(at.getUTCMonth() + 1)) return false;
			const day = days.has(at.getUTCDate());
			const weekday = weekdays.has(at.getUTCDay());
			// As in cron: with both day fields restricted, either one matching is enough.
			if (!dayAny && !weekdayAny) return day || weekday;
			return day && weekday;
		},
	};
}

/** The `crons = [...]` of wrangler.toml's top-level `[triggers]`. */
export function readCronTriggers(repoRoot: string): string[] {
	const toml = readFileSync(join(repoRoot, "wrangler.toml"), "utf8");
	const section = /^\[triggers\]\s*$([\s\S]*?)(?=^\[)/m.exec(`${toml}\n[`)?.[1] ?? "";
	const list = /^crons\s*=\s*\[([^\]]*)\]/m.exec(section)?.[1] ?? "";
	return [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
}

/**
 * Fires `fire(expression)` for every schedule due at each UTC minute until `signal` aborts.
 * A failed run is reported through `onError` and does not stop the ticker.
 */
export function startCronTicker(options: {
	schedules: CronSchedule[];
	fire: (expression: string) => Promise<void>;
	onError: (expression: string, error: unknown) => void;
	signal: AbortSignal;
	now?: () => number;
}): void {
	const now = options.now ?? Date.now;
	let timer: ReturnType<typeof setTimeout> | undefined;
	const tick = () => {
		const at = new Date(Math.floor(now() / 60_000) * 60_000);
		for (const schedule of options.schedules) {
			if (schedule.matches(at)) {
				options.fire(schedule.expression).catch((e) => options.onError(schedule.expression, e));
			}
		}
		arm();
	};
	const arm = () => {
		if (options.signal.aborted) return;
		// A second into the minute, so the minute read back is the one that just began.
		timer = setTimeout(tick, 60_000 - (now() % 60_000) + 1_000);
		timer.unref?.();
	};
	options.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
	arm();
}
