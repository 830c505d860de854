import type { Server } from "node:http";
import { DEV_SETTLEMENT_WALLET, SANDBOX_DEFAULTS } from "./config.js";
import { createControlServer } from "./control.js";
import {
	closeServer,
	errorMessage,
	formatUrl,
	isLoopbackHost,
	type Log,
	listen,
	Router,
} from "./http.js";
import { SolanaSimulator, type SolanaSimulatorOptions } from "./solana/simulator.js";
import {
	StripeEmulator,
	type StripeEmulatorOptions,
	stripeOptionsFromEnv,
} from "./stripe/emulator.js";
import { createStripeServer } from "./stripe/server.js";
import { registerWalletRoutes, SandboxWallet, walletOriginsFromEnv } from "./wallet.js";

export interface SandboxOptions {
	host?: string;
	solanaPort?: number;
	stripePort?: number;
	controlPort?: number;
	/** Slot clock, commitment lags and fault seed; `{ slotMs: 0 }` for manual slots in tests. */
	solana?: Omit<SolanaSimulatorOptions, "settlementWallets">;
	/**
	 * Wallets the gateway settles into: each starts with its associated token account for every
	 * settlement token (USDC, PYUSD), created before the RPC server listens. Defaults to the
	 * development wallet (wrangler.toml's SOLANA_SETTLEMENT_WALLET); `[]` for none.
	 */
	settlementWallets?: readonly string[];
	/** Webhook endpoint, retry and timing knobs; STRIPE_WEBHOOK_URL / _SECRET fill unset ones. */
	stripe?: StripeEmulatorOptions;
	/**
	 * Page origins whose scripts may ask the Sandbox Wallet to sign (the gateway's checkout);
	 * SANDBOX_WALLET_ORIGINS, comma-separated, fills it when unset.
	 */
	walletOrigins?: readonly string[];
	log?: (line: string) => void;
}

export interface Sandbox {
	urls: { solana: string; stripe: string; control: string };
	/** The local Solana network: advanceSlots, confirm, setFaults, airdrop, mintTokens, reset. */
	solana: SolanaSimulator;
	/** The Stripe emulator's state: setWebhook, setFaults, deliveries, reset, store. */
	stripe: StripeEmulator;
	/** The funded "Sandbox Wallet" the checkout and `npm run pay` pay with (served under /wallet). */
	wallet: SandboxWallet;
	close(): Promise<void>;
}

function checkPort(name: string, port: number): void {
	if (!Number.isInteger(port) || port < 0 || port > 65535) {
		throw new RangeError(`${name} must be an integer between 0 and 65535, got ${port}`);
	}
}

/**
 * Starts the Solana RPC, Stripe emulator and control servers. The control server binds
 * last, so once its /health answers the other two are already accepting connections.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
	const host = options.host ?? SANDBOX_DEFAULTS.host;
	const solanaPort = options.solanaPort ?? SANDBOX_DEFAULTS.solanaPort;
	const stripePort = options.stripePort ?? SANDBOX_DEFAULTS.stripePort;
	const controlPort = options.controlPort ?? SANDBOX_DEFAULTS.controlPort;
	const log: Log = options.log ?? (() => {});
	if (!isLoopbackHost(host)) {
		throw new Error(
			`sandbox host must be a loopback address (127.0.0.1, ::1, localhost), got "${host}"`,
		);
	}
	checkPort("solanaPort", solanaPort);
	checkPort("stripePort", stripePort);
	checkPort("controlPort", controlPort);

	const simulator = new SolanaSimulator({
		...options.solana,
		settlementWallets: options.settlementWallets ?? [DEV_SETTLEMENT_WALLET],
	});
	const stripeEmulator = new StripeEmulator({
		...stripeOptionsFromEnv(process.env),
		...options.stripe,
		log: options.stripe?.log ?? log,
	});
	const started: Server[] = [];
	const bind = async (name: string, server: Server, port: number): Promise<string> => {
		try {
			const bound = await listen(server, port, host);
			started.push(server);
			return formatUrl(host, bound);
		} catch (error) {
			// Release whatever already bound so a failed start leaves no ports behind.
			await Promise.allSettled(started.map(closeServer));
			throw new Error(
				`sandbox ${name} could not listen on ${formatUrl(host, port)}: ${errorMessage(error)}`,
				{
					cause: error,
				},
			);
		}
	};

	const solana = await bind("Solana RPC", simulator.createServer(log), solanaPort);
	const stripe = await bind(
		"Stripe emulator",
		createStripeServer({ emulator: stripeEmulator, log }),
		stripePort,
	);
	const wallet = new SandboxWallet(
		simulator,
		options.walletOrigins ?? walletOriginsFromEnv(process.env),
	);
	const router = new Router();
	let controlUrl = "";
	registerWalletRoutes(router, wallet, { controlUrl: () => controlUrl, log });
	const controlServer = createControlServer({
		router,
		services: { solana, stripe },
		stripe: stripeEmulator,
		startedAt: new Date(),
		log,
	});
	const control = await bind("control", controlServer, controlPort);
	controlUrl = control;
	simulator.start();

	let closing: Promise<void> | undefined;
	return {
		urls: { solana, stripe, control },
		solana: simulator,
		stripe: stripeEmulator,
		wallet,
		close() {
			// Idempotent: signal handlers and test teardown may both call it.
			simulator.close();
			closing ??= Promise.all([...started.map(closeServer), stripeEmulator.close()]).then(
				() => undefined,
			);
			return closing;
		},
	};
}
