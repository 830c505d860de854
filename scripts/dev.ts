import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readSandboxConfig, type SandboxConfig } from "../sandbox/config.js";
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

const GATEWAY_HOST = "127.0.0.1";
// Fixed: wrangler.toml's PUBLIC_BASE_URL (used in checkout links) points at this port.
const GATEWAY_PORT = 8787;
const GATEWAY_URL = formatUrl(GATEWAY_HOST, GATEWAY_PORT);
const STRIPE_WEBHOOK_URL = `${GATEWAY_URL}/webhooks/stripe`;
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
	say("applying D1 migrations (local)");
	// CI=true keeps wrangler from asking for confirmation.
	const child = runPrefixed(
		"migrate",
		process.execPath,
		[wranglerBin(), "d1", "migrations", "apply", "DB", "--local"],
		{
			cwd: REPO_ROOT,
			env: childEnv({ CI: "true" }),
		},
	);
	children.push(child);
	const exit = await child.exited;
	children.splice(children.indexOf(child), 1);
	lifetime.signal.throwIfAborted();
	if (exit.code !== 0) {
		throw new DevError(
			`D1 migrations failed (${describeExit(exit)}); rerun \`npx wrangler d1 migrations apply DB --local\` to see why`,
		);
	}
}

function sandboxConfig(): SandboxConfig {
	let config: SandboxConfig;
	try {
		config = readSandboxConfig(process.env);
	} catch (error) {
		throw new DevError((error as Error).message);
	}
	if (config.controlPort === 0) {
		throw new DevError(
			"SANDBOX_CONTROL_PORT must be a fixed port for npm run dev to find the sandbox",
		);
	}
	return config;
}

/** A leftover gateway or sandbox on a port would answer our health checks in its place. */
async function assertPortsFree(ports: { host: string; port: number; what: string }[]) {
	for (const { host, port, what } of ports) {
		if (port !== 0 && !(await isPortFree(host, port))) {
			throw new DevError(
				`${formatUrl(host, port)} (${what}) is already in use; is another \`npm run dev\` running?`,
			);
		}
	}
}

async function startSandbox(config: SandboxConfig, secrets: DevSecrets) {
	// A child spawned after shutdown began would never be stopped.
	lifetime.signal.throwIfAborted();
	say("starting the sandbox");
	// The Stripe emulator sends every event to the gateway, signed with the gateway's secret.
	const stripeWebhook: Record<string, string> = { STRIPE_WEBHOOK_URL };
	if (secrets.stripeWebhookSecret)
		stripeWebhook.STRIPE_WEBHOOK_SECRET = secrets.stripeWebhookSecret;
	supervise(
		spawnPrefixed("sandbox", process.execPath, ["--import", "tsx", "sandbox/main.ts"], {
			cwd: REPO_ROOT,
			env: childEnv(stripeWebhook),
			detached: true,
		}),
	);
	const control = formatUrl(config.host, config.controlPort);
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
	say(`funded the settlement wallet ${wallet.address} with 100 SOL (refund network fees)`);
}

async function startGateway(stripeUrl: string, sandboxUrl: string): Promise<void> {
	// A child spawned after shutdown began would never be stopped.
	lifetime.signal.throwIfAborted();
	say("starting the gateway (wrangler dev)");
	// wrangler.toml names the emulator's default port; this follows STRIPE_PORT when it differs.
	const stripeVars = {
		STRIPE_API_URL: stripeUrl,
		STRIPE_JS_URL: `${stripeUrl}/js/v3/`,
	};
	const args = [
		wranglerBin(),
		"dev",
		"--ip",
		GATEWAY_HOST,
		"--port",
		String(GATEWAY_PORT),
		// Serves /__scheduled, through which startCron() fires wrangler.toml's cron triggers.
		"--test-scheduled",
		...Object.entries(stripeVars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
		// Test-mode checkouts offer the sandbox's wallet (development only: src/checkout/sandbox-wallet.ts).
		"--var",
		`SANDBOX_WALLET_URL:${sandboxUrl}`,
	];
	supervise(
		spawnPrefixed("gateway", process.execPath, args, {
			cwd: REPO_ROOT,
			env: childEnv(),
			detached: true,
		}),
	);
	await waitForUrl(`${GATEWAY_URL}/health`, {
		timeoutMs: GATEWAY_READY_MS,
		intervalMs: 250,
		// Degraded (503: a missing settlement account, a treasury difference) still means it runs.
		isReady: (status) => status === 200 || status === 503,
		signal: lifetime.signal,
	});
}

/** Fires wrangler.toml's cron triggers on their schedule, as Cloudflare does in production. */
function startCron(): void {
	const crons = readCronTriggers(REPO_ROOT);
	startCronTicker({
		schedules: crons.map(parseCron),
		fire: async (cron) => {
			const url = new URL("/__scheduled", GATEWAY_URL);
			url.searchParams.set("cron", cron);
			const res = await fetch(url, { signal: lifetime.signal });
			if (!res.ok) throw new Error(`HTTP ${res.status}`);
		},
		onError: (cron, error) => {
			if (!lifetime.signal.aborted) shout(`cron ${cron} failed: ${(error as Error).message}`);
		},
		signal: lifetime.signal,
	});
	say(`cron triggers fired on schedule (UTC): ${crons.join(", ")}`);
}

function asError(error: unknown): Error {
	if (error instanceof GatewayApiError) {
		const detail = [`HTTP ${error.status}`, error.code].filter(Boolean).join(", ");
		return new Error(`${error.message} (${detail})`);
	}
	return error instanceof Error ? error : new Error(String(error));
}

async function seed(adminToken: string) {
	let merchant: DemoMerchant | Error;
	let payment: Payment | Error | undefined;
	try {
		merchant = await ensureDemoMerchant({
			gatewayUrl: GATEWAY_URL,
			adminToken,
			file: join(REPO_ROOT, DEMO_MERCHANT_FILE),
			signal: lifetime.signal,
		});
		if (merchant.note) say(`new demo merchant: ${merchant.note}`);
		merchant.ownerInvitation = await demoOwnerInvitation(
			GATEWAY_URL,
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
			payment = await createDemoPayment(GATEWAY_URL, merchant.secretKey.secret, lifetime.signal);
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
	const config = sandboxConfig();
	await assertPortsFree([
		{ host: GATEWAY_HOST, port: GATEWAY_PORT, what: "gateway" },
		{ host: config.host, port: config.solanaPort, what: "sandbox Solana RPC" },
		{ host: config.host, port: config.stripePort, what: "sandbox Stripe emulator" },
		{ host: config.host, port: config.controlPort, what: "sandbox control" },
	]);
	await applyMigrations();
	const sandbox = await startSandbox(config, secrets);
	say(`Stripe emulator webhooks go to ${STRIPE_WEBHOOK_URL}`);
	await startGateway(sandbox.stripe, sandbox.control);
	startCron();
	// Seeding problems are reported in the banner, not fatal: the gateway itself is up.
	const { merchant, payment } = await seed(secrets.adminToken);
	process.stdout.write(
		renderBanner({
			gatewayUrl: GATEWAY_URL,
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
