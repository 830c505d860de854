import { parseArgs } from "node:util";
import { resolveAdminToken } from "./dev-vars.js";
import {
	type CreateMerchantResponse,
	createInvitation,
	createMerchant,
	GatewayApiError,
	GatewayUnreachableError,
} from "./gateway-api.js";
import { DEFAULT_GATEWAY_URL, DEV_VARS_FILE } from "./paths.js";

// `npm run merchant:create`: the admin API's create-merchant call as a CLI. Kept apart from
// the entry script so tests can run it in-process against a fake gateway.

export const USAGE = `Usage: npm run merchant:create -- --name <name> [--email <email>] [--owner-email <email>] [--url <gateway url>] [--json]

Creates a merchant through the gateway's admin API and prints its API keys.

  --name   merchant display name (required)
  --email  merchant contact email
  --owner-email  invite this person as the dashboard's owner (prints the one-time link)
  --url    gateway base URL (default: $GATEWAY_URL or ${DEFAULT_GATEWAY_URL})
  --json   print the API response as JSON instead of a summary

The admin token comes from $ADMIN_TOKEN, or else from ${DEV_VARS_FILE}.`;

export interface CliIo {
	env: NodeJS.ProcessEnv;
	root: string;
	stdout: (text: string) => void;
	stderr: (text: string) => void;
}

export function formatSummary(response: CreateMerchantResponse): string {
	const { merchant, keys } = response;
	const lines = [`Created merchant ${merchant.id} (${merchant.name})`];
	if (typeof merchant.email === "string") lines.push(`  email: ${merchant.email}`);
	lines.push("", "API keys (shown only once: store them now, they cannot be retrieved again):");
	for (const key of keys) {
		const mode = key.livemode ? "live" : "test";
		lines.push(`  ${key.type.padEnd(12)} ${mode}  ${key.secret}`);
	}
	if (keys.length === 0) lines.push("  (none returned)");
	return `${lines.join("\n")}\n`;
}

function isHttpUrl(value: string): boolean {
	try {
		const { protocol } = new URL(value);
		return protocol === "http:" || protocol === "https:";
	} catch {
		return false;
	}
}

/** Returns the process exit code: 0 ok, 1 failure, 2 usage. */
export async function runMerchantCreate(argv: string[], io: CliIo): Promise<number> {
	let values: {
		name?: string;
		email?: string;
		"owner-email"?: string;
		url?: string;
		json?: boolean;
		help?: boolean;
	};
	try {
		({ values } = parseArgs({
			args: argv,
			options: {
				name: { type: "string" },
				email: { type: "string" },
				"owner-email": { type: "string" },
				url: { type: "string" },
				json: { type: "boolean", default: false },
				help: { type: "boolean", short: "h", default: false },
			},
			strict: true,
			allowPositionals: false,
		}));
	} catch (error) {
		io.stderr(`${(error as Error).message}\n\n${USAGE}\n`);
		return 2;
	}
	if (values.help) {
		io.stdout(`${USAGE}\n`);
		return 0;
	}
	const name = values.name?.trim();
	if (!name) {
		io.stderr(`--name is required\n\n${USAGE}\n`);
		return 2;
	}
	const email = values.email?.trim();
	if (values.email !== undefined && !email) {
		io.stderr(`--email must not be empty\n\n${USAGE}\n`);
		return 2;
	}
	const url = values.url ?? (io.env.GATEWAY_URL?.trim() || DEFAULT_GATEWAY_URL);
	if (!isHttpUrl(url)) {
		io.stderr(`not an http(s) URL: ${url}\n\n${USAGE}\n`);
		return 2;
	}

	const token = await resolveAdminToken(io.root, io.env);
	if (!token) {
		io.stderr(
			`No admin token: set ADMIN_TOKEN or add it to ${DEV_VARS_FILE} (npm run dev creates one).\n`,
		);
		return 1;
	}

	try {
		const response = await createMerchant(url, token, email ? { name, email } : { name });
		const ownerEmail = values["owner-email"]?.trim();
		// The owner's one-time link: they register a passkey and run the dashboard from there.
		const owner = ownerEmail
			? await createInvitation(url, token, response.merchant.id, { email: ownerEmail })
			: null;
		if (values.json) {
			io.stdout(
				`${JSON.stringify(owner ? { ...response, owner_invitation: owner } : response, null, 2)}\n`,
			);
		} else {
			io.stdout(formatSummary(response));
			if (owner) {
				io.stdout(
					`owner invitation for ${ownerEmail} (one-time, ${owner.emailed ? "emailed, " : ""}register a passkey):\n  ${owner.url}\n`,
				);
			}
		}
		return 0;
	} catch (error) {
		if (error instanceof GatewayApiError) {
			const details = [`code: ${error.code ?? "none"}`, `HTTP ${error.status}`];
			if (error.param) details.push(`param: ${error.param}`);
			if (error.requestId) details.push(`request: ${error.requestId}`);
			io.stderr(`Error: ${error.message} (${details.join(", ")})\n`);
		} else if (error instanceof GatewayUnreachableError) {
			io.stderr(`Error: ${error.message}. Is the gateway running (npm run dev)?\n`);
		} else {
			io.stderr(`Error: ${(error as Error).message}\n`);
		}
		return 1;
	}
}
