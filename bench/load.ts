/**
 * `npm run bench:load`: requests per second and latency of the gateway's busiest routes through
 * `wrangler dev` (workerd, local D1 and Durable Objects), against a floor measured in the same
 * run: `GET /health/live`, which does no I/O. Each route runs at 1k, 10k and 100k stored payments.
 * Writes bench/results/load.json. Method and results: docs/benchmarks.md.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { LocalStack } from "../scripts/lib/local-stack.js";
import { type LoadRequest, runLoad } from "./lib/load-client.js";
import {
	findInspectorPort,
	type ProfileSummary,
	profileWhile,
	summarizeProfile,
} from "./lib/load-profile.js";
import {
	type Measurement,
	ROUTES,
	type RouteName,
	scalingTable,
	sizeTable,
	targets,
} from "./lib/load-report.js";
import {
	CARD_PAYMENT,
	createPayments,
	extraSecretKeys,
	fillTo,
	persistDir,
	storedPayments,
	waitForProjection,
} from "./lib/load-seed.js";
import { writeResult } from "./lib/report.js";

const { values: args } = parseArgs({
	options: {
		"duration-s": { type: "string", default: "10" },
		"warmup-s": { type: "string", default: "1" },
		connections: { type: "string", default: "4" },
		sizes: { type: "string", default: "1000,10000,100000" },
		keys: { type: "string", default: "30" },
		"max-requests": { type: "string", default: "50000" },
		"settle-s": { type: "string", default: "15" },
		"hard-stop-minutes": { type: "string", default: "12" },
		profile: { type: "boolean", default: false },
		"no-write": { type: "boolean", default: false },
	},
});

const durationMs = Number(args["duration-s"]) * 1000;
const warmupMs = Number(args["warmup-s"]) * 1000;
const connections = Number(args.connections);
const sizes = (args.sizes ?? "").split(",").map(Number);
const keyCount = Number(args.keys);
const maxRequests = Number(args["max-requests"]);
const settleMs = Number(args["settle-s"]) * 1000;
const say = (line: string) => console.log(`[load] ${line}`);

/** Payments read by id: created through the API, so each has its own Durable Object. */
const REAL_PAYMENTS = Math.min(1000, sizes[0] ?? 1000);
const CHECKOUT_PAYMENTS = 10;

async function main(): Promise<void> {
	if (sizes.some((s) => !Number.isInteger(s) || s < 1))
		throw new Error("--sizes: positive integers");
	const stack = new LocalStack({ name: "bench-load", say });
	const hardStop = setTimeout(() => {
		console.error("[load] hard stop reached");
		void stack.stop().then(() => process.exit(2));
	}, Number(args["hard-stop-minutes"]) * 60_000);
	try {
		await stack.start();
		const base = stack.gatewayUrl;
		const merchant = await stack.createMerchant("Load Bench");
		const merchantId = merchant.merchant.id;
		// API_RATE_LIMITER allows 1000 requests per 10 s per key: the load is spread over many keys
		// of one merchant, so the gateway is measured and not its 429s (which count as errors).
		const keys = [merchant.secretKey, ...(await extraSecretKeys(stack, merchant, keyCount - 1))];
		say(`${keys.length} secret keys; creating ${REAL_PAYMENTS} payments through the API`);
		const ids = await createPayments(stack, keys, REAL_PAYMENTS, 8);
		const checkoutIds = await createPayments(stack, keys, CHECKOUT_PAYMENTS, 2, {
			amount: 2500,
			currency: "usd",
			payment_method_types: ["solana", "card"],
			solana: { token: "USDC" },
		});
		let created = REAL_PAYMENTS + CHECKOUT_PAYMENTS;
		await waitForProjection(stack, merchantId, created);

		const runId = randomBytes(4).toString("hex");
		const auth = (i: number) => ({ authorization: `Bearer ${keys[i % keys.length]}` });
		const requests: Record<RouteName, (i: number) => LoadRequest> = {
			floor: () => ({ method: "GET", path: "/health/live" }),
			get: (i) => ({
				method: "GET",
				path: `/v1/payments/${ids[i % ids.length]}`,
				headers: auth(i),
			}),
			list: (i) => ({ method: "GET", path: "/v1/payments", headers: auth(i) }),
			post: (i) => ({
				method: "POST",
				path: "/v1/payments",
				headers: auth(i),
				body: JSON.stringify(CARD_PAYMENT),
			}),
			post_idempotent: (i) => ({
				method: "POST",
				path: "/v1/payments",
				headers: { ...auth(i), "idempotency-key": `load-${runId}-${i}` },
				body: JSON.stringify(CARD_PAYMENT),
			}),
			// CHECKOUT_RATE_LIMITER counts 120 a minute per client IP: payers come from 1,024
			// addresses of the benchmarking range (198.18.0.0/15), as real payers do from many.
			checkout: (i) => ({
				method: "GET",
				path: `/checkout/${checkoutIds[i % checkoutIds.length]}`,
				headers: { "cf-connecting-ip": `198.18.${(i >> 8) & 3}.${i & 255}` },
			}),
		};

		const inspector = args.profile ? findInspectorPort(persistDir(stack)) : null;
		if (args.profile && !inspector)
			throw new Error("--profile: wrangler dev's inspector port not found");
		const profiles: Partial<Record<RouteName, ProfileSummary>> = {};
		const measurements: Measurement[] = [];
		for (const [index, size] of sizes.entries()) {
			const stored = await fillTo(stack, merchantId, ids[0] as string, size);
			say(`${size} stored payments: ${stored} in D1`);
			// The checkout runs once, after the last size: each view makes a Solana payment's object
			// poll the chain briskly for a while, which would weigh on the sizes after it.
			const routes: RouteName[] = ["floor", "get", "list", "post", "post_idempotent"];
			if (index === sizes.length - 1) routes.push("checkout");
			for (const route of routes) {
				const load = () =>
					runLoad({
						baseUrl: base,
						connections,
						durationMs,
						warmupMs,
						maxRequests,
						next: requests[route],
						signal: stack.signal,
					});
				let result: Awaited<ReturnType<typeof load>> | undefined;
				if (inspector && (index === 0 || route === "checkout")) {
					const profile = await profileWhile(inspector, async () => {
						result = await load();
					});
					writeFileSync(
						join(tmpdir(), `streampayments-load-${route}.cpuprofile`),
						JSON.stringify(profile),
					);
					profiles[route] = summarizeProfile(profile, 20);
				} else {
					result = await load();
				}
				if (!result) throw new Error(`${route}: no result`);
				measurements.push({ route, size, stored, result });
				if (route === "post" || route === "post_idempotent") created += result.ok;
				const { rps, latency_ms: l, error_count } = result;
				say(
					`${ROUTES[route]}: ${rps} req/s, p50 ${l.p50} ms, p99 ${l.p99} ms, ${error_count} errors`,
				);
			}
			// The next size counts what the creates above added, once their outboxes have drained,
			// and starts once the objects those creates woke have gone idle again.
			await waitForProjection(stack, merchantId, created);
			if (index < sizes.length - 1) await new Promise((r) => setTimeout(r, settleMs));
		}

		const result = {
			name: "load",
			title: `HTTP load through wrangler dev: ${connections} connections, ${durationMs / 1000} s per route and size, against GET /health/live`,
			targets: targets(measurements, sizes),
			tables: [...sizes.map((s) => sizeTable(measurements, s)), scalingTable(measurements, sizes)],
			data: {
				config: {
					connections,
					duration_ms: durationMs,
					warmup_ms: warmupMs,
					max_requests: maxRequests,
					settle_ms: settleMs,
					sizes,
					api_keys: keys.length,
					real_payments: REAL_PAYMENTS,
					checkout_payments: CHECKOUT_PAYMENTS,
					payment_body: CARD_PAYMENT,
				},
				final_stored_payments: await storedPayments(stack, merchantId),
				measurements,
				...(args.profile ? { profiles } : {}),
			},
		};
		for (const t of result.targets) say(`${t.met ? "met" : "MISSED"}: ${t.name} (${t.detail})`);
		if (!args["no-write"]) {
			writeResult(result);
			say("wrote bench/results/load.json");
		}
	} catch (error) {
		console.error(error instanceof Error ? error.message : error);
		console.error(stack.logTail());
		process.exitCode = 1;
	} finally {
		clearTimeout(hardStop);
		await stack.stop();
	}
}

await main();
