import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
	createWriteStream,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	type WriteStream,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import type { SolanaSimulatorOptions } from "../../sandbox/solana/simulator.js";
import {
	describeExit,
	type ExitInfo,
	isPortFree,
	type ManagedChild,
	terminate,
} from "./children.js";
import {
	type ApiKey,
	type CreateMerchantResponse,
	createMerchant,
	findKey,
} from "./gateway-api.js";
import { REPO_ROOT } from "./paths.js";
import { airdrop, devSettlementWallet } from "./settlement-wallet.js";
import { waitForUrl } from "./wait.js";

// The whole gateway on one machine for benchmarks and browser tests: the sandbox in-process and
// `wrangler dev` (workerd, local D1 and Durable Objects) on free loopback ports, with state in a
// fresh temp directory, so a run never touches `npm run dev`'s ports or .wrangler/state.

export interface LocalStackOptions {
	/** Names the temp directory ("streampayments-<name>-…"). */
	name: string;
	/** Slot clock and commitment lags of the sandbox's local Solana network. */
	solana?: SolanaSimulatorOptions;
	/** More `--var NAME:value` for wrangler dev (on top of the RPC, price feed, Stripe, URL and secrets). */
	vars?: Record<string, string>;
	/** Where wrangler's and the sandbox's output goes; by default inside the temp dir (removed by stop). */
	logFile?: string;
	/** Budget for wrangler dev to answer /health (bundling and workerd start-up). */
	readyTimeoutMs?: number;
	/** Progress lines ("starting wrangler dev on …"). */
	say?: (line: string) => void;
	/** Called once the sandbox listens, before the gateway starts (to watch its events from the start). */
	onSandbox?: (sandbox: Sandbox) => void;
	/** wrangler dev exited on its own while the stack was up (or starting). */
	onGatewayExit?: (message: string) => void;
}

/** The Stripe keys the gateway runs with; the sandbox's emulator accepts any test key. */
export interface LocalStripeKeys {
	publishableKey: string;
	secretKey: string;
	/** Signs the emulator's webhooks to the gateway's `/webhooks/stripe`. */
	webhookSecret: string;
}

export interface LocalMerchant extends CreateMerchantResponse {
	/** The test-mode secret key (`sk_test_…`). */
	secretKey: string;
	/** The test-mode publishable key (`pk_test_…`). */
	publishableKey: string;
}

/** A free TCP port on 127.0.0.1 (bound briefly, then released). */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const info = server.address();
			const port = typeof info === "object" && info ? info.port : 0;
			server.close(() => resolve(port));
		});
	});
}

/**
 * `const stack = new LocalStack({name}); await stack.start(); … await stack.stop()`. `stop()` is
 * idempotent and safe at any moment, including while `start()` is still waiting: it ends every
 * child's whole process group (workerd too), closes the sandbox and removes the temp directory.
 */
export class LocalStack {
	readonly #options: LocalStackOptions;
	readonly #lifetime = new AbortController();
	readonly #children: ManagedChild[] = [];
	#tempDir: string | undefined;
	#log: WriteStream | undefined;
	#logPath: string | undefined;
	#sandbox: Sandbox | undefined;
	#gatewayUrl: string | undefined;
	#adminToken: string | undefined;
	#stripe: LocalStripeKeys | undefined;
	#stopping: Promise<void> | undefined;
	/** wrangler dev's command line, kept so the gateway can be restarted on the same port and state. */
	#gatewayArgv: string[] | undefined;
	#gateway: ManagedChild | undefined;
	#persistDir: string | undefined;
	/**
	 * Last resort when the process exits without stop() (a test runner's Ctrl-C, process.exit):
	 * the children lead their own process groups, so nothing else would end wrangler and workerd.
	 */
	readonly #killOnExit = () => this.#killNow();

	constructor(options: LocalStackOptions) {
		this.#options = options;
	}

	/** Aborted once stop() begins, or when wrangler dev exits on its own. */
	get signal(): AbortSignal {
		return this.#lifetime.signal;
	}

	get sandbox(): Sandbox {
		return this.#started(this.#sandbox, "sandbox");
	}

	/** `http://127.0.0.1:<port>`: the gateway (wrangler dev). */
	get gatewayUrl(): string {
		return this.#started(this.#gatewayUrl, "gateway");
	}

	/** The random ADMIN_TOKEN this gateway was started with. */
	get adminToken(): string {
		return this.#started(this.#adminToken, "gateway");
	}

	/** The Stripe keys and webhook secret this gateway was started with. */
	get stripe(): LocalStripeKeys {
		return this.#started(this.#stripe, "gateway");
	}

	/** The file holding wrangler's and the sandbox's output. */
	get logPath(): string {
		return this.#started(this.#logPath, "log");
	}

	#started<T>(value: T | undefined, what: string): T {
		if (value === undefined) throw new Error(`local stack: ${what} not started`);
		return value;
	}

	#say(line: string): void {
		this.#options.say?.(line);
	}

	async start(): Promise<void> {
		const signal = this.#lifetime.signal;
		signal.throwIfAborted();
		const options = this.#options;
		process.once("exit", this.#killOnExit);
		this.#tempDir = mkdtempSync(join(tmpdir(), `streampayments-${options.name}-`));
		this.#logPath = options.logFile ?? join(this.#tempDir, "local-stack.log");
		mkdirSync(dirname(this.#logPath), { recursive: true });
		const log = createWriteStream(this.#logPath);
		// A line racing shutdown must not crash the process over a closed log.
		log.on("error", () => {});
		this.#log = log;

		this.#sandbox = await startSandbox({
			host: "127.0.0.1",
			solanaPort: 0,
			stripePort: 0,
			controlPort: 0,
			...(options.solana ? { solana: options.solana } : {}),
			log: (line) => {
				if (!log.writableEnded) log.write(`[sandbox] ${line}\n`);
			},
		});
		if (signal.aborted) {
			// stop() ran while the sandbox was binding; it could not close what it did not know of.
			await this.#sandbox.close();
			signal.throwIfAborted();
		}
		this.#say(
			`sandbox: Solana ${this.#sandbox.urls.solana}, control ${this.#sandbox.urls.control}`,
		);
		options.onSandbox?.(this.#sandbox);

		const wrangler = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
		const persist = join(this.#tempDir, "state");
		this.#say("applying D1 migrations (local, temp state)");
		const migrate = this.#spawn(
			"migrate",
			[wrangler, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persist],
			false,
		);
		const migrated = await migrate.exited;
		this.#children.splice(this.#children.indexOf(migrate), 1);
		signal.throwIfAborted();
		if (migrated.code !== 0) {
			throw new Error(`D1 migrations failed (${describeExit(migrated)})\n${this.logTail()}`);
		}

		const port = await freePort();
		const gatewayUrl = `http://127.0.0.1:${port}`;
		const adminToken = randomBytes(24).toString("base64url").slice(0, 32);
		const sandbox = this.#sandbox;
		// Cards end to end: the gateway calls the emulator, the checkout loads the emulator's
		// stand-in Stripe.js, and the emulator signs its webhooks to this gateway.
		const stripe: LocalStripeKeys = {
			publishableKey: `pk_test_${randomBytes(18).toString("hex")}`,
			secretKey: `sk_test_${randomBytes(18).toString("hex")}`,
			webhookSecret: `whsec_${randomBytes(24).toString("hex")}`,
		};
		sandbox.stripe.setWebhook({
			url: `${gatewayUrl}/webhooks/stripe`,
			secret: stripe.webhookSecret,
		});
		// Refunds send from the development settlement wallet; it pays their network fees.
		const wallet = await devSettlementWallet(REPO_ROOT);
		if (wallet) await airdrop(sandbox.urls.solana, wallet.address, 100_000_000_000, signal);
		const vars: Record<string, string> = {
			...(wallet ? { SETTLEMENT_WALLET_KEY: wallet.secretKey } : {}),
			SOLANA_RPC_URLS: sandbox.urls.solana,
			PYTH_HERMES_URL: `${sandbox.urls.control}/hermes`,
			FX_REFERENCE_URL: `${sandbox.urls.control}/fx`,
			PUBLIC_BASE_URL: gatewayUrl,
			ADMIN_TOKEN: adminToken,
			SESSION_SECRET: `${adminToken}${adminToken}`,
			ENCRYPTION_KEYS: `local1:${randomBytes(32).toString("base64")}`,
			STRIPE_API_URL: sandbox.urls.stripe,
			STRIPE_JS_URL: `${sandbox.urls.stripe}/js/v3/`,
			STRIPE_PUBLISHABLE_KEY: stripe.publishableKey,
			STRIPE_SECRET_KEY: stripe.secretKey,
			STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
			...options.vars,
		};
		this.#persistDir = persist;
		this.#gatewayArgv = [
			wrangler,
			"dev",
			"--ip",
			"127.0.0.1",
			"--port",
			String(port),
			"--inspector-port",
			String(await freePort()),
			"--persist-to",
			persist,
			"--show-interactive-dev-session=false",
			// Serves /__scheduled, so runCron() can fire the cron triggers wrangler dev never fires.
			"--test-scheduled",
			...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
		];
		this.#say(`starting wrangler dev on 127.0.0.1:${port}`);
		await this.#startGateway(gatewayUrl);
		this.#gatewayUrl = gatewayUrl;
		this.#adminToken = adminToken;
		this.#stripe = stripe;
	}

	/** A new merchant through the admin API, with its test-mode keys picked out. */
	async createMerchant(name: string): Promise<LocalMerchant> {
		const created = await createMerchant(this.gatewayUrl, this.adminToken, { name }, this.signal);
		const key = (type: ApiKey["type"]) => {
			const found = findKey(created.keys, type, false)?.secret;
			if (!found) throw new Error(`the new merchant has no test-mode ${type} key`);
			return found;
		};
		return { ...created, secretKey: key("secret"), publishableKey: key("publishable") };
	}

	/** Spawns wrangler dev from the kept command line and waits until it answers /health. */
	async #startGateway(gatewayUrl: string): Promise<void> {
		const signal = this.#lifetime.signal;
		const options = this.#options;
		const dev = this.#spawn("gateway", this.#started(this.#gatewayArgv, "gateway"), true);
		this.#gateway = dev;
		let exitedEarly: string | undefined;
		void dev.exited.then((info) => {
			// A gateway killed on purpose (killGateway) is not a failure of the stack.
			if (signal.aborted || this.#gateway !== dev) return;
			exitedEarly = `wrangler dev exited unexpectedly (${describeExit(info)})`;
			this.#lifetime.abort(new Error(exitedEarly));
			options.onGatewayExit?.(exitedEarly);
		});
		try {
			await waitForUrl(`${gatewayUrl}/health`, {
				timeoutMs: options.readyTimeoutMs ?? 90_000,
				intervalMs: 250,
				// Degraded (503: a missing settlement account, a treasury difference) still means it runs.
				isReady: (status) => status === 200 || status === 503,
				signal,
			});
		} catch (error) {
			if (exitedEarly) throw new Error(`${exitedEarly}\n${this.logTail()}`);
			if (signal.aborted) throw error;
			throw new Error(`${(error as Error).message}\n${this.logTail()}`);
		}
	}

	/**
	 * SIGKILL to wrangler dev and its workerd, as a crash would: no graceful shutdown. The temp
	 * state directory (D1, Durable Objects, queues) stays for restartGateway().
	 */
	async killGateway(): Promise<void> {
		const dev = this.#gateway;
		if (!dev) throw new Error("local stack: gateway not started");
		this.#gateway = undefined;
		if (dev.process.pid !== undefined) {
			try {
				process.kill(-dev.process.pid, "SIGKILL");
			} catch {
				dev.process.kill("SIGKILL");
			}
		}
		await dev.exited;
		this.#children.splice(this.#children.indexOf(dev), 1);
		// The group's last processes (workerd) may outlive the leader for a moment: wait for the port.
		const { port } = new URL(this.gatewayUrl);
		const deadline = Date.now() + 10_000;
		while (!(await isPortFree("127.0.0.1", Number(port))) && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	}

	/** Starts wrangler dev again on the same port and persisted state (killing it first if it runs). */
	async restartGateway(): Promise<void> {
		if (this.#gateway) await this.killGateway();
		this.#say("restarting wrangler dev on the same port and state");
		await this.#startGateway(this.gatewayUrl);
	}

	/** Fires a cron trigger through wrangler dev's /__scheduled (the minute cron by default). */
	async runCron(cron = "* * * * *"): Promise<void> {
		const url = new URL("/__scheduled", this.gatewayUrl);
		url.searchParams.set("cron", cron);
		const res = await fetch(url, {
			signal: AbortSignal.any([this.signal, AbortSignal.timeout(60_000)]),
		});
		const text = await res.text();
		if (!res.ok) throw new Error(`cron ${cron}: HTTP ${res.status} ${text.slice(0, 200)}`);
	}

	/**
	 * Runs SQL on the gateway's local D1 through `wrangler d1 execute --local --persist-to`
	 * (the same SQLite file wrangler dev writes) and returns the rows of the last statement.
	 */
	async queryD1<T = Record<string, unknown>>(sql: string): Promise<T[]> {
		// wrangler dev holds the same SQLite file: a read or write landing on its write lock is
		// refused (SQLITE_BUSY) rather than queued, so it is tried again.
		for (let attempt = 1; ; attempt++) {
			try {
				return await this.#queryD1Once<T>(sql);
			} catch (error) {
				if (attempt >= 10 || !/SQLITE_BUSY|database is locked/.test(String(error))) throw error;
				await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
			}
		}
	}

	async #queryD1Once<T>(sql: string): Promise<T[]> {
		const persist = this.#started(this.#persistDir, "gateway");
		const wrangler = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
		const stdout = await new Promise<string>((resolve, reject) => {
			execFile(
				process.execPath,
				[
					wrangler,
					"d1",
					"execute",
					"DB",
					"--local",
					"--persist-to",
					persist,
					"--json",
					"--command",
					sql,
				],
				{
					cwd: REPO_ROOT,
					env: {
						...process.env,
						CLOUDFLARE_CF_FETCH_ENABLED: "false",
						WRANGLER_SEND_METRICS: "false",
						CI: "true",
						NO_COLOR: "1",
					},
					maxBuffer: 64 * 1024 * 1024,
					signal: this.signal,
				},
				(error, out, err) =>
					error ? reject(new Error(`d1 execute: ${error.message}\n${err}`)) : resolve(out),
			);
		});
		const results = JSON.parse(stdout) as { results: T[] }[];
		return results.at(-1)?.results ?? [];
	}

	/** The last lines of the log, headed by where the whole file is. */
	logTail(lines = 40): string {
		if (!this.#logPath) return "(no local stack log)";
		try {
			const tail = readFileSync(this.#logPath, "utf8").trimEnd().split("\n").slice(-lines);
			return `last lines of ${this.#logPath}:\n${tail.join("\n")}`;
		} catch {
			return `(nothing logged yet to ${this.#logPath})`;
		}
	}

	stop(): Promise<void> {
		this.#stopping ??= (async () => {
			if (!this.#lifetime.signal.aborted) this.#lifetime.abort(new Error("local stack stopped"));
			await Promise.allSettled(this.#children.map((child) => terminate(child)));
			await this.#sandbox?.close().catch(() => {});
			await new Promise<void>((resolve) => (this.#log ? this.#log.end(resolve) : resolve()));
			if (this.#tempDir) rmSync(this.#tempDir, { recursive: true, force: true });
			process.off("exit", this.#killOnExit);
		})();
		return this.#stopping;
	}

	/** Synchronous: SIGKILL to every child's process group, then the temp directory goes. */
	#killNow(): void {
		for (const { process: child } of this.#children) {
			if (child.pid === undefined) continue;
			try {
				process.kill(-child.pid, "SIGKILL");
			} catch {
				// Not a group leader (the migrations run), or the group is already gone.
				child.kill("SIGKILL");
			}
		}
		if (this.#tempDir) rmSync(this.#tempDir, { recursive: true, force: true });
	}

	#spawn(name: string, argv: string[], detached: boolean): ManagedChild {
		// stop() may have run while start() awaited: never spawn past it.
		this.#lifetime.signal.throwIfAborted();
		const log = this.#started(this.#log, "log");
		const env: NodeJS.ProcessEnv = {
			...process.env,
			CLOUDFLARE_CF_FETCH_ENABLED: "false",
			WRANGLER_SEND_METRICS: "false",
			CI: "true",
			NO_COLOR: "1",
		};
		const child: ChildProcess = spawn(process.execPath, argv, {
			cwd: REPO_ROOT,
			env,
			// Own process group, so terminate() reaches workerd too.
			detached,
			stdio: ["ignore", "pipe", "pipe"],
		});
		child.stdout?.pipe(log, { end: false });
		child.stderr?.pipe(log, { end: false });
		const exited = new Promise<ExitInfo>((resolve) => {
			child.once("error", () => resolve({ code: null, signal: null }));
			child.once("exit", (code, signal) => resolve({ code, signal }));
		});
		const managed = { name, process: child, exited };
		this.#children.push(managed);
		return managed;
	}
}
