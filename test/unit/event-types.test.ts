import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CONVERSION_STATUSES } from "../../src/domain/conversion";
import { EVENT_TYPES, unknownEventTypes } from "../../src/domain/event-types";
import { eventTypeFor, PAYMENT_STATUSES } from "../../src/domain/payment-state";

const ROOT = path.join(import.meta.dirname, "../..");

function sources(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const full = path.join(dir, name);
		if (statSync(full).isDirectory()) return name === "generated" ? [] : sources(full);
		return /\.tsx?$/.test(name) ? [full] : [];
	});
}

const FILES = [...sources(path.join(ROOT, "src")), ...sources(path.join(ROOT, "durable-objects"))];
const PREFIXES = [...new Set(EVENT_TYPES.map((t) => t.split(".")[0]))];
/** A quoted `resource.verb` with a prefix events use: "payment.succeeded", 'report.ready'. */
const LITERAL = new RegExp(`["'](${PREFIXES.join("|")})\\.([a-z_]+)["']`, "g");
/**
 * Lines that name such strings without emitting them: audit-log actions (`api_key.rolled`,
 * `webhook_endpoint.created`, `payment.approved`) and OpenAPI examples.
 */
const NOT_EMITTED = /auditApiChange\(|auditDashboard\(|action:|example:/;

describe("EVENT_TYPES", () => {
	it("holds every event type emitted anywhere in src/ and durable-objects/", () => {
		const emitted = new Map<string, string>();
		for (const file of FILES) {
			readFileSync(file, "utf8")
				.split("\n")
				.forEach((line, i) => {
					if (NOT_EMITTED.test(line) || /^\s*(\/\/|\*)/.test(line)) return;
					for (const m of line.matchAll(LITERAL)) {
						emitted.set(`${m[1]}.${m[2]}`, `${path.relative(ROOT, file)}:${i + 1}`);
					}
				});
		}
		const missing = [...emitted].filter(([type]) => !EVENT_TYPES.includes(type));
		expect(missing, "emitted but not in src/domain/event-types.ts").toEqual([]);
		// The scan does see the producers (a regex gone wrong would find nothing and pass).
		expect(emitted.size).toBeGreaterThan(20);
	});

	it("holds the types built from a value: each payment status and each conversion status", () => {
		for (const status of PAYMENT_STATUSES) expect(EVENT_TYPES).toContain(eventTypeFor(status));
		// The conversions table's status column is typed from this list.
		const schema = readFileSync(path.join(ROOT, "src/db/schema/conversions.ts"), "utf8");
		expect(schema).toContain('text("status", { enum: CONVERSION_STATUSES })');
		expect(CONVERSION_STATUSES.length).toBeGreaterThan(0);
		for (const status of CONVERSION_STATUSES) expect(EVENT_TYPES).toContain(`conversion.${status}`);
	});

	it("knows of no other place that builds a type from a value", () => {
		const built: string[] = [];
		for (const file of FILES) {
			const text = readFileSync(file, "utf8");
			for (const m of text.matchAll(/`([a-z_]+)\.\$\{/g)) {
				if (PREFIXES.includes(m[1] as string)) built.push(`${path.relative(ROOT, file)}:${m[1]}`);
			}
		}
		expect(built.sort()).toEqual([
			"src/domain/payment-state.ts:payment",
			"src/services/conversions.ts:conversion",
		]);
	});

	it("is sorted, without duplicates, and includes the types the gateway is known to emit", () => {
		expect([...EVENT_TYPES].sort()).toEqual(EVENT_TYPES);
		expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPES.length);
		expect(EVENT_TYPES).toEqual(
			expect.arrayContaining([
				"payment.extra_funds_received",
				"payment.late_payment_received",
				"payment.partially_funded",
				"payment.quote_updated",
				"payment.card_attached",
				"payment.card_updated",
				"payment.dispute_created",
				"payment.funds_available",
				"payment.refunded",
				"payment.refund_failed",
				"refund.created",
				"refund.succeeded",
				"conversion.completed",
				"report.ready",
			]),
		);
	});
});

describe("unknownEventTypes", () => {
	it("lets '*' and known types through and returns the rest", () => {
		expect(unknownEventTypes(["*"])).toEqual([]);
		expect(unknownEventTypes(["payment.succeeded", "refund.failed"])).toEqual([]);
		expect(unknownEventTypes(["payment.succeeded", "nope.nope", "payment.approved"])).toEqual([
			"nope.nope",
			"payment.approved",
		]);
	});
});
