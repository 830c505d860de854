import {
	createExecutionContext,
	createMessageBatch,
	getQueueResult,
	runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { forgetProjectModules, freshStorage } from "./helpers/fresh-runtime";

// The suite's files share one workerd; the setup resets it between them. What a file leaves
// behind must be gone for the next, as if each had a runtime of its own.
describe("the reset between test files", () => {
	it("leaves no D1 table or row, R2 object, Durable Object or rate-limit count behind", async () => {
		const bucket = env.REPORTS_BUCKET;
		if (!bucket) throw new Error("the suite binds REPORTS_BUCKET");
		await env.DB.exec("CREATE TABLE leftover (x INTEGER)");
		await env.DB.prepare("INSERT INTO leftover (x) VALUES (1)").run();
		await bucket.put("leftover.txt", "left over");
		const stub = env.PAYMENTS.get(env.PAYMENTS.idFromName("leftover"));
		await runInDurableObject(stub, (_object, state) => state.storage.put("leftover", 1));
		const limiter = env.LINK_RATE_LIMITER;
		if (!limiter) throw new Error("the suite binds LINK_RATE_LIMITER");
		const limit = () => limiter.limit({ key: "leftover" });
		for (let i = 0; i < 30; i++) await limit();
		expect((await limit()).success).toBe(false);

		await freshStorage();

		const leftover = await env.DB.prepare(
			"SELECT name FROM sqlite_master WHERE name = 'leftover'",
		).first();
		expect(leftover).toBeNull();
		const applied = await env.DB.prepare("SELECT COUNT(*) AS n FROM d1_migrations").first<{
			n: number;
		}>();
		expect(applied?.n).toBe(env.TEST_MIGRATIONS.length);
		expect((await bucket.list()).objects).toEqual([]);
		// The old object was aborted (its stub now fails); a new one under the same name starts empty.
		const again = env.PAYMENTS.get(env.PAYMENTS.idFromName("leftover"));
		const kept = await runInDurableObject(again, (_object, state) => state.storage.get("leftover"));
		expect(kept).toBeUndefined();
		expect((await limit()).success).toBe(true);
	});

	it("evaluates the gateway's modules anew, with their module-level caches", async () => {
		const before = await import("../../src/services/routing");
		expect(forgetProjectModules()).toBeGreaterThan(0);
		const after = await import("../../src/services/routing");
		expect(after.clearRoutingCaches).not.toBe(before.clearRoutingCaches);
	});

	it("acknowledges, unread, a queue message an earlier file sent", async () => {
		// Not a webhooks message: read, it would be recorded as given up.
		const batch = createMessageBatch("webhooks", [
			{
				id: "m-earlier",
				timestamp: new Date(Date.now() - 60_000),
				attempts: 1,
				body: { not: "ours" },
			},
		]);
		const ctx = createExecutionContext();
		await worker.queue(batch, env, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.explicitAcks).toEqual(["m-earlier"]);
		const failures = await env.DB.prepare("SELECT COUNT(*) AS n FROM queue_failures").first<{
			n: number;
		}>();
		expect(failures?.n).toBe(0);
	});
});
