/**
 * The Worker suites run their files one after another in one workerd (`isolate: false` in
 * vitest.config.mts): a runtime of its own per file, loading the gateway's thousand modules
 * again, cost about five seconds a file. The setup (test/worker/setup.ts) calls these before
 * each file, so a file still starts as it would in a runtime of its own: the gateway's modules
 * evaluated anew, and empty storage with the schema applied. test/worker/isolation.test.ts holds
 * them to that.
 */

interface EvaluatedModule {
	promise?: unknown;
	exports?: unknown;
	evaluated: boolean;
	importers: Set<string>;
}

/** Vitest's module runner state in this worker (vitest/dist: `__vitest_worker__`). */
function evaluatedModules(): Map<string, EvaluatedModule> {
	const state = (
		globalThis as { __vitest_worker__?: { evaluatedModules?: { idToModuleMap?: unknown } } }
	).__vitest_worker__;
	const map = state?.evaluatedModules?.idToModuleMap;
	if (!(map instanceof Map)) throw new Error("vitest's module runner state is not where it was");
	return map as Map<string, EvaluatedModule>;
}

/**
 * Forgets every evaluated module that is not an npm package (the gateway's src/ and
 * durable-objects/, the test helpers, cloudflare:test, which imports the gateway), the way
 * Vitest resets modules between files when it isolates them: module-level caches (API keys,
 * routing and risk rules, processor health, Stripe clients, signers) start empty in each file.
 * npm packages hold no state the tests depend on and are most of the load time, so they stay.
 * Returns how many modules were forgotten.
 */
export function forgetProjectModules(): number {
	let forgotten = 0;
	for (const [id, node] of evaluatedModules()) {
		if (id.includes("/node_modules/")) continue;
		node.promise = undefined;
		node.exports = undefined;
		node.evaluated = false;
		node.importers.clear();
		forgotten++;
	}
	return forgotten;
}

/**
 * Deletes everything the previous file stored (D1, R2, rate-limit counts and every Durable
 * Object with its storage: Miniflare keeps them all in Durable Objects) and applies the D1
 * migrations to the empty database.
 */
export async function freshStorage(): Promise<void> {
	const { applyD1Migrations, reset } = await import("cloudflare:test");
	const { env } = await import("cloudflare:workers");
	await reset();
	await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
}

/**
 * Acknowledges, unread, the queue messages an earlier file sent. Miniflare's queues are not
 * reset with the rest (their broker is kept alive), so a webhook or conversion an earlier file
 * published, or a retry it scheduled, would otherwise reach this file's consumer, as it never
 * could when each file's runtime ended with it. A message's timestamp is when it was first sent.
 */
export async function dropEarlierMessages(fileStart: number): Promise<void> {
	const main = (await import("../../../src/index")).default;
	const consume = main.queue;
	main.queue = (batch, env, ctx) => {
		const earlier = batch.messages.filter((m) => m.timestamp.getTime() < fileStart);
		if (earlier.length === 0) return consume(batch, env, ctx);
		for (const message of earlier) message.ack();
		const messages = batch.messages.filter((m) => m.timestamp.getTime() >= fileStart);
		if (messages.length === 0) return Promise.resolve();
		return consume(
			{ ...batch, messages, ackAll: () => batch.ackAll(), retryAll: (o) => batch.retryAll(o) },
			env,
			ctx,
		);
	};
}
