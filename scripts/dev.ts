import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { formatUrl } from "../sandbox/http.js";
import { renderBanner } from "./lib/banner.js";
import {
	describeExit,
	isPortFree,
	type ManagedChild,
	runPrefixed,
	spawnPrefixed,
	terminate,
} from "./lib/children.js";
import { parseCron, readCronTriggers, startCronTicker } from "./lib/cron.js";
import {
	createDemoPayment,
	type DemoMerchant,
	demoOwnerInvitation,
	ensureDemoMerchant,
} from "./lib/demo.js";
import {
	type DevConfig,
	GATEWAY_HOST,
	gatewayVars,
	readDevConfig,
	type SandboxUrls,
	stripeWebhookUrl,
} from "./lib/dev-config.js";
import {
	gatewayFilter,
	isVerbose,
	type LineFilter,
	sandboxFilter,
	summariseMigrations,
} from "./lib/dev-output.js";
import { addMissingDevVars, ensureDevVars, readDevVars } from "./lib/dev-vars.js";
import { GatewayApiError, type Payment } from "./lib/gateway-api.js";
import {
	DEMO_MERCHANT_FILE,
	DEV_VARS_EXAMPLE_FILE,
	DEV_VARS_FILE,
	REPO_ROOT,
} from "./lib/paths.js";
import { airdrop, devSettlementWallet } from "./lib/settlement-wallet.js";
import { waitForUrl } from "./lib/wait.js";

// `npm run dev`: migrations, sandbox, wrangler dev, a seeded demo merchant, then a banner.

const VERBOSE = isVerbose(process.env, process.argv);
const SANDBOX_READY_MS = 30_000;
const GATEWAY_READY_MS = 60_000;

/** An expected failure: printed as one clear line, without a stack trace. */
class DevError extends Error {}

const children: ManagedChild[] = [];
const lifetime = new AbortController();
let shuttingDown = false;

function say(line: string): void {
	process.stdout.write(`[dev] ${line}\n`);
}

/** Progress only VERBOSE=1 shows: the banner says where everything is once it is up. */
function detail(line: string): void {
	if (VERBOSE) say(line);
}

/** All of a child's output with VERBOSE=1; otherwise what `quiet` lets through. */
function shown(quiet: LineFilter): LineFilter | undefined {
	return VERBOSE ? undefined : quiet;
}

function shout(line: string): void {
	process.stderr.write(`[dev] ${line}\n`);
}

async function shutdown(code: number): Promise<void> {
	if (shuttingDown) return;
	shuttingDown = true;
	lifetime.abort();
	await Promise.all(children.map((child) => terminate(child)));
	process.exit(code);
}

/** Any exit of a long-running child that we did not ask for takes the whole stack down. */
function supervise(child: ManagedChild): ManagedChild {
	children.push(child);
	void child.exited.then((info) => {
		if (shuttingDown) return;
		shout(`${child.name} exited unexpectedly (${describeExit(info)}); stopping everything`);
		void shutdown(1);
	});
	return child;
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
	// Local requests get workerd's placeholder `request.cf` instead of a lookup at Cloudflare that
	// fails offline with a stack trace; set CLOUDFLARE_CF_FETCH_ENABLED=true to fetch the real one.
	env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
	// Without its banner wrangler also skips the "update available" check: the version is pinned.
	if (!VERBOSE) env.WRANGLER_HIDE_BANNER ??= "true";
	// No telemetry prompt in the output; set WRANGLER_SEND_METRICS=true to opt in.
	env.WRANGLER_SEND_METRICS ??= "false";
	// Output goes through pipes, which would otherwise switch wrangler's colours off.
	if (process.stdout.isTTY && env.NO_COLOR === undefined && env.FORCE_COLOR === undefined) {
		env.FORCE_COLOR = "1";
	}
	return env;
}

function wranglerBin(): string {
	const bin = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
	if (!existsSync(bin)) throw new DevError("wrangler is not installed; run `npm install` first");
	return bin;
}

/**
 * A fresh value for a secret `.dev.vars` lacks, keeping the example's Stripe prefix
 * (`sk_test_`, `whsec_`): the emulator and the gateway check it. The settlement wallet's key is
 * the example's own (a development keypair whose address wrangler.toml names).
 */
function generateDevSecret(name: string, example: string): string {
	// The dev settlement wallet's key pairs with its address in wrangler.toml: copy, never invent.
	if (name === "SETTLEMENT_WALLET_KEY") return example;
	// Key-encryption keys carry a key id: "kid:base64(32 bytes)".
	if (name === "ENCRYPTION_KEYS") return `dev1:${randomBytes(32).toString("base64")}`;
	const prefix = /^(sk_test_|pk_test_|whsec_)/.exec(example)?.[1] ?? "";
	return `${prefix}${randomBytes(32).toString(prefix ? "hex" : "base64url")}`;
}

interface DevSecrets {
	adminToken: string;
	/** Shared by the gateway (from .dev.vars) and the sandbox's Stripe webhooks. */
	stripeWebhookSecret: string | undefined;
}

async function readDevSecrets(): Promise<DevSecrets> {
	try {
		if (await ensureDevVars(REPO_ROOT))
			say(`created ${DEV_VARS_FILE} from ${DEV_VARS_EXAMPLE_FILE}`);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
		throw new DevError(`${DEV_VARS_FILE} and ${DEV_VARS_EXAMPLE_FILE} are both missing`);
	}
	// Secrets added since this .dev.vars was made get fresh random values (never the example's).
	const added = await addMissingDevVars(REPO_ROOT, generateDevSecret);
	if (added.length > 0) say(`added ${added.join(", ")} to ${DEV_VARS_FILE}`);
	const vars = (await readDevVars(REPO_ROOT)) ?? {};
	const token = vars.ADMIN_TOKEN?.trim();
	if (!token)
		throw new DevError(`${DEV_VARS_FILE} has no ADMIN_TOKEN; see ${DEV_VARS_EXAMPLE_FILE}`);
	const webhookSecret = vars.STRIPE_WEBHOOK_SECRET?.trim();
	if (webhookSecret && !webhookSecret.startsWith("whsec_")) {
		throw new DevError(`STRIPE_WEBHOOK_SECRET in ${DEV_VARS_FILE} must start with whsec_`);
	}
	if (!webhookSecret) {
		shout(
			`${DEV_VARS_FILE} has no STRIPE_WEBHOOK_SECRET: card payments will not see Stripe's webhooks`,
		);
	}
	return { adminToken: token, stripeWebhookSecret: webhookSecret || undefined };
}

async function applyMigrations(): Promise<void> {
	detail("applying D1 migrations (local)");
	// Kept, not printed: a table per migration, summarised in one line once it is done.
	const output: string[] = [];
	// CI=true keeps wrangler from asking for confirmation.
	const child = runPrefixed(
		"migrate",
		process.execPath,
		[wranglerBin(), "d1", "migrations", "apply", "DB", "--local"],
		{
			cwd: REPO_ROOT,
			env: childEnv({ CI: "true" }),
			filter: shown((line) => {
				output.push(line);
				return null;
			}),
		},
	);
	children.push(child);
	const exit = await child.exited;
	children.splice(children.indexOf(child), 1);
	lifetime.signal.throwIfAborted();
	if (exit.code !== 0) {
		for (const line of output) process.stderr.write(`[migrate] ${line}\n`);
		throw new DevError(
			`D1 migrations failed (${describeExit(exit)}); rerun \`npx wrangler d1 migrations apply DB --local\` to see why`,
		);
	}
	if (!VERBOSE) say(summariseMigrations(output));
}

function devConfig(): DevConfig {
	try {
		return readDevConfig(process.env);
	} catch (error) {
		throw new DevError((error as Error).message);
	}
}

/** A leftover gateway or sandbox on a port would answer our health checks in its place. */
async function assertPortsFree(
	ports: { host: string; port: number; what: string; variable: string }[],
) {
	for (const { host, port, what, variable } of ports) {
		if (port !== 0 && !(await isPortFree(host, port))) {
			throw new DevError(
				`${formatUrl(host, port)} (${what}) is already in use: stop the other \`npm run dev\` or Workers project, or pick another port with ${variable}=… (docs/troubleshooting.md)`,
			);
		}
	}
}

async function startSandbox(config: DevConfig, secrets: DevSecrets): Promise<SandboxUrls> {
	// A child spawned after shutdown began would never be stopped.
	lifetime.signal.throwIfAborted();
	detail("starting the sandbox");
	// The Stripe emulator sends every event to the gateway, signed with the gateway's secret.
	const stripeWebhook: Record<string, string> = { STRIPE_WEBHOOK_URL: stripeWebhookUrl(config) };
	if (secrets.stripeWebhookSecret)
		stripeWebhook.STRIPE_WEBHOOK_SECRET = secrets.stripeWebhookSecret;
	supervise(
		spawnPrefixed("sandbox", process.execPath, ["--import", "tsx", "sandbox/main.ts"], {
			cwd: REPO_ROOT,
			env: childEnv(stripeWebhook),
			detached: true,
			filter: shown(sandboxFilter()),
		}),
	);
	const control = formatUrl(config.sandbox.host, config.sandbox.controlPort);
	await waitForUrl(`${control}/health`, { timeoutMs: SANDBOX_READY_MS, signal: lifetime.signal });
	const res = await fetch(`${control}/health`, { signal: lifetime.signal });
	const body = (await res.json()) as { services: { solana: string; stripe: string } };
	await fundSettlementWallet(body.services.solana);
	return { solana: body.services.solana, stripe: body.services.stripe, control };
}

/** The settlement wallet pays the network fees of refunds: give it SOL on the local network. */
async function fundSettlementWallet(rpcUrl: string): Promise<void> {
	const wallet = await devSettlementWallet(REPO_ROOT);
	if (!wallet) return;
	await airdrop(rpcUrl, wallet.address, 100_000_000_000, lifetime.signal);
	detail(`funded the settlement wallet ${wallet.address} with 100 SOL (refund network fees)`);
}

async function startGateway(config: DevConfig, sandbox: SandboxUrls): Promise<void> {
	// A child spawned after shutdown began would never be stopped.
	lifetime.signal.throwIfAborted();
	detail("starting the gateway (wrangler dev)");
	const args = [
		wranglerBin(),
		"dev",
		"--ip",
		GATEWAY_HOST,
		"--port",
		String(config.gatewayPort),
		// Serves /__scheduled, through which startCron() fires wrangler.toml's cron triggers.
		"--test-scheduled",
		// wrangler.toml names the default ports; these follow PORT and the sandbox's ports.
		...Object.entries(gatewayVars(config, sandbox)).flatMap(([name, value]) => [
			"--var",
			`${name}:${value}`,
		]),
	];
	supervise(
		spawnPrefixed("gateway", process.execPath, args, {
			cwd: REPO_ROOT,
			env: childEnv(),
			detached: true,
			filter: shown(gatewayFilter()),
		}),
	);
	await waitForUrl(`${config.gatewayUrl}/health`, {
		timeoutMs: GATEWAY_READY_MS,
		intervalMs: 250,
		// Degraded (503: a missing settlement account, a treasury difference) still means it runs.
		isReady: (status) => status === 200 || status === 503,
		signal: lifetime.signal,
	});
}

/** Fires wrangler.toml's cron triggers on their schedule, as Cloudflare does in production. */
function startCron(gatewayUrl: string): void {
	const crons = readCronTriggers(REPO_ROOT);
	startCronTicker({
		schedules: crons.map(parseCron),
		fire: async (cron) => {
			const url = new URL("/__scheduled", gatewayUrl);
			url.searchParams.set("cron", cron);
			const res = await fetch(url, { signal: lifetime.signal });
			if (!res.ok) throw new Error(`HTTP ${res.status}`);
		},
		onError: (cron, error) => {
			if (!lifetime.signal.aborted) shout(`cron ${cron} failed: ${(error as Error).message}`);
		},
		signal: lifetime.signal,
	});
	detail(`cron triggers fired on schedule (UTC): ${crons.join(", ")}`);
}

function asError(error: unknown): Error {
	if (error instanceof GatewayApiError) {
		const detail = [`HTTP ${error.status}`, error.code].filter(Boolean).join(", ");
		return new Error(`${error.message} (${detail})`);
	}
	return error instanceof Error ? error : new Error(String(error));
}

async function seed(gatewayUrl: string, adminToken: string) {
	let merchant: DemoMerchant | Error;
	let payment: Payment | Error | undefined;
	try {
		merchant = await ensureDemoMerchant({
			gatewayUrl,
			adminToken,
			file: join(REPO_ROOT, DEMO_MERCHANT_FILE),
			signal: lifetime.signal,
		});
		if (merchant.note) say(`new demo merchant: ${merchant.note}`);
		merchant.ownerInvitation = await demoOwnerInvitation(
			gatewayUrl,
			adminToken,
			merchant.response.merchant.id,
			lifetime.signal,
		);
	} catch (error) {
		lifetime.signal.throwIfAborted();
		merchant = asError(error);
		shout(`could not seed the demo merchant: ${merchant.message}`);
	}
	if (!(merchant instanceof Error)) {
		try {
			payment = await createDemoPayment(gatewayUrl, merchant.secretKey.secret, lifetime.signal);
		} catch (error) {
			lifetime.signal.throwIfAborted();
			payment = asError(error);
			shout(`could not create the demo payment: ${payment.message}`);
		}
	}
	return { merchant, payment };
}

async function main(): Promise<void> {
	for (const signal of ["SIGINT", "SIGTERM"] as const) {
		process.on(signal, () => {
			if (!shuttingDown) say(`${signal} received; stopping the gateway and sandbox`);
			void shutdown(0);
		});
	}

	const secrets = await readDevSecrets();
	const config = devConfig();
	const { host, solanaPort, stripePort, controlPort } = config.sandbox;
	await assertPortsFree([
		{ host: GATEWAY_HOST, port: config.gatewayPort, what: "gateway", variable: "PORT" },
		{ host, port: solanaPort, what: "sandbox Solana RPC", variable: "SOLANA_RPC_PORT" },
		{ host, port: stripePort, what: "sandbox Stripe emulator", variable: "STRIPE_PORT" },
		{ host, port: controlPort, what: "sandbox control", variable: "SANDBOX_CONTROL_PORT" },
	]);
	await applyMigrations();
	const sandbox = await startSandbox(config, secrets);
	detail(`Stripe emulator webhooks go to ${stripeWebhookUrl(config)}`);
	await startGateway(config, sandbox);
	startCron(config.gatewayUrl);
	// Seeding problems are reported in the banner, not fatal: the gateway itself is up.
	const { merchant, payment } = await seed(config.gatewayUrl, secrets.adminToken);
	process.stdout.write(
		renderBanner({
			gatewayUrl: config.gatewayUrl,
			sandbox,
			demoFile: DEMO_MERCHANT_FILE,
			merchant,
			payment,
		}),
	);
	// From here on the children keep the process alive; supervise() handles their exits.
}

main().catch((error: unknown) => {
	// Aborts caused by an ongoing shutdown are expected noise.
	if (shuttingDown) return;
	shout(error instanceof DevError ? error.message : ((error as Error).stack ?? String(error)));
	void shutdown(1);
});
