import { afterEach, describe, expect, it, vi } from "vitest";
import { parseCron, readCronTriggers, startCronTicker } from "../../scripts/lib/cron.js";
import { REPO_ROOT } from "../../scripts/lib/paths.js";
import { CRON_DAILY, CRON_FREQUENT } from "../../src/cron/scheduled.js";

// npm run dev fires wrangler.toml's cron triggers itself (wrangler dev never does).

const at = (iso: string) => new Date(iso);

describe("cron expressions", () => {
	it("matches every minute, and 00:10 UTC only", () => {
		const minute = parseCron("* * * * *");
		const daily = parseCron("10 0 * * *");
		expect(minute.matches(at("2026-11-25T17:43:00Z"))).toBe(true);
		expect(daily.matches(at("2026-11-25T00:10:00Z"))).toBe(true);
		expect(daily.matches(at("2026-11-25T00:11:00Z"))).toBe(false);
		expect(daily.matches(at("2026-11-25T10:00:00Z"))).toBe(false);
	});

	it("reads steps, ranges, lists and the day-of-month or day-of-week rule", () => {
		const quarter = parseCron("*/15 * * * *");
		expect(
			[0, 15, 30, 45].every((m) =>
				quarter.matches(at(`2026-11-25T08:${String(m).padStart(2, "0")}:00Z`)),
			),
		).toBe(true);
		expect(quarter.matches(at("2026-11-25T08:20:00Z"))).toBe(false);
		const office = parseCron("0 9-17/4 * * 1,3");
		expect(office.matches(at("2026-11-25T13:00:00Z"))).toBe(true); // a Wednesday
		expect(office.matches(at("2026-11-26T13:00:00Z"))).toBe(false); // a Thursday
		const either = parseCron("0 0 1 * 0");
		expect(either.matches(at("2026-11-01T00:00:00Z"))).toBe(true); // the 1st (a Sunday too)
		expect(either.matches(at("2026-11-08T00:00:00Z"))).toBe(true); // a Sunday
		expect(either.matches(at("2026-11-09T00:00:00Z"))).toBe(false);
	});

	it("refuses what it cannot read", () => {
		expect(() => parseCron("* * * *")).toThrow(/five fields/);
		expect(() => parseCron("61 * * * *")).toThrow(/minute/);
		expect(() => parseCron("* * * JAN *")).toThrow(/month/);
	});

	it("reads wrangler.toml's triggers, the ones the scheduled handler dispatches on", () => {
		expect(readCronTriggers(REPO_ROOT)).toEqual([CRON_FREQUENT, CRON_DAILY]);
	});
});

describe("cron ticker", () => {
	afterEach(() => {
		vi.useRealTimers();
	});

	it("fires each schedule at its minutes and stops when aborted", async () => {
		vi.useFakeTimers();
		vi.setSystemTime(at("2026-11-26T00:08:30Z"));
		const fired: string[] = [];
		const lifetime = new AbortController();
		startCronTicker({
			schedules: [parseCron(CRON_FREQUENT), parseCron(CRON_DAILY)],
			fire: async (cron) => {
				fired.push(`${new Date().toISOString().slice(11, 16)} ${cron}`);
			},
			onError: () => undefined,
			signal: lifetime.signal,
		});
		await vi.advanceTimersByTimeAsync(3 * 60_000);
		expect(fired).toEqual([
			`00:09 ${CRON_FREQUENT}`,
			`00:10 ${CRON_FREQUENT}`,
			`00:10 ${CRON_DAILY}`,
			`00:11 ${CRON_FREQUENT}`,
		]);
		lifetime.abort();
		await vi.advanceTimersByTimeAsync(5 * 60_000);
		expect(fired).toHaveLength(4);
	});

	it("keeps ticking after a failed run", async () => {
		vi.useFakeTimers();
		vi.setSystemTime(at("2026-11-25T12:00:30Z"));
		const errors: string[] = [];
		let runs = 0;
		const lifetime = new AbortController();
		startCronTicker({
			schedules: [parseCron(CRON_FREQUENT)],
			fire: async () => {
				runs += 1;
				if (runs === 1) throw new Error("gateway restarting");
			},
			onError: (cron, error) => errors.push(`${cron}: ${(error as Error).message}`),
			signal: lifetime.signal,
		});
		await vi.advanceTimersByTimeAsync(2 * 60_000);
		expect(runs).toBe(2);
		expect(errors).toEqual([`${CRON_FREQUENT}: gateway restarting`]);
		lifetime.abort();
	});
});
