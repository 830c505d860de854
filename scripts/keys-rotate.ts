import { parseArgs } from "node:util";
import { resolveAdminToken } from "./lib/dev-vars.js";
import { GatewayApiError, GatewayUnreachableError, gatewayJson } from "./lib/gateway-api.js";
import { DEFAULT_GATEWAY_URL, DEV_VARS_FILE, REPO_ROOT } from "./lib/paths.js";

// `npm run keys:rotate -- [--url https://pay.example.com] [--batch 100] [--cursor <next_cursor>]`
//
// Re-encrypts every sealed field (webhook signing secrets, customer emails) under the first key of
// ENCRYPTION_KEYS, one bounded batch per request to POST /admin/v1/encryption/rotate, printing
// progress. Safe to stop and run again: rows already under the current key are skipped, and
// --cursor resumes from the last printed cursor. See docs/configuration.md.

const USAGE = `Usage: npm run keys:rotate -- [--url <gateway url>] [--batch <1-500>] [--cursor <cursor>]

  --url     gateway base URL (default: $GATEWAY_URL or ${DEFAULT_GATEWAY_URL})
  --batch   rows per request (default 100)
  --cursor  resume after an interrupted run (the last cursor it printed)

The admin token comes from $ADMIN_TOKEN, or else from ${DEV_VARS_FILE}.`;

interface Batch {
	current_key: string;
	table: string;
	scanned: number;
	rotated: number;
	next_cursor: string | null;
	done: boolean;
}

async function main(): Promise<number> {
	let values: { url?: string; batch?: string; cursor?: string; help?: boolean };
	try {
		({ values } = parseArgs({
			options: {
				url: { type: "string" },
				batch: { type: "string" },
				cursor: { type: "string" },
				help: { type: "boolean", short: "h", default: false },
			},
			strict: true,
		}));
	} catch (error) {
		process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
		return 2;
	}
	if (values.help) {
		process.stdout.write(`${USAGE}\n`);
		return 0;
	}
	const limit = Number(values.batch ?? "100");
	if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
		process.stderr.write(`--batch must be an integer from 1 to 500\n`);
		return 2;
	}
	const url = values.url ?? (process.env.GATEWAY_URL?.trim() || DEFAULT_GATEWAY_URL);
	const token = await resolveAdminToken(REPO_ROOT, process.env);
	if (!token) {
		process.stderr.write(`No admin token: set ADMIN_TOKEN or add it to ${DEV_VARS_FILE}.\n`);
		return 1;
	}
	let cursor = values.cursor;
	const totals = new Map<string, { scanned: number; rotated: number }>();
	try {
		for (;;) {
			const batch = (await gatewayJson(url, "/admin/v1/encryption/rotate", {
				method: "POST",
				token,
				body: cursor === undefined ? { limit } : { limit, cursor },
			})) as Batch;
			const total = totals.get(batch.table) ?? { scanned: 0, rotated: 0 };
			total.scanned += batch.scanned;
			total.rotated += batch.rotated;
			totals.set(batch.table, total);
			process.stdout.write(
				`${batch.table}: ${total.scanned} read, ${total.rotated} re-encrypted under '${batch.current_key}'` +
					(batch.next_cursor ? ` (cursor ${batch.next_cursor})` : "") +
					"\n",
			);
			if (batch.done) break;
			cursor = batch.next_cursor ?? undefined;
		}
	} catch (error) {
		const where = cursor ? ` Resume with --cursor '${cursor}'.` : "";
		if (error instanceof GatewayApiError || error instanceof GatewayUnreachableError) {
			process.stderr.write(`Error: ${error.message}.${where}\n`);
		} else {
			process.stderr.write(`Error: ${(error as Error).message}.${where}\n`);
		}
		return 1;
	}
	process.stdout.write("Done: every sealed field is under the current key.\n");
	return 0;
}

process.exitCode = await main();
